/** Filters, counters, selection, batch commands, pagination, sorting and the keyboard. */

import { describe, expect, it } from "vitest";
import { click, FakeModel, job, jobs, view, press, q, qa, row } from "./helpers.js";

/**
 * Check a checkbox like a user, optionally with shift held.
 *
 * @param {HTMLElement} box
 * @param {boolean} [shiftKey]
 */
function tick(box, shiftKey = false) {
  click(box, { shiftKey });
}

describe("counters and filters", () => {
  it("filters to a status on click, clears on a second click, total clears", () => {
    const model = new FakeModel({ jobs: jobs(2), total: 2, page: 3 });
    const { el } = view(model);
    click(q(el, '.jw-counter[data-status="failed"]'));
    expect(model.get("filters").status).toEqual(["failed"]);
    expect(model.get("page")).toBe(0);
    expect(q(el, '.jw-counter[data-status="failed"]').getAttribute("aria-pressed")).toBe("true");
    expect(q(el, '.jw-counter[data-status="total"]').getAttribute("aria-pressed")).toBe("false");
    expect(q(el, '.jw-chip[data-field="status"]').textContent).toContain("failed");

    click(q(el, '.jw-counter[data-status="failed"]'));
    expect(model.get("filters").status).toEqual([]);

    click(q(el, '.jw-counter[data-status="running"]'));
    click(q(el, '.jw-counter[data-status="total"]'));
    expect(model.get("filters").status).toEqual([]);
  });

  it("offers the kernel's sources in a checkbox menu and sets the filter", () => {
    const model = new FakeModel({
      jobs: jobs(1),
      total: 1,
      sources: ["confluence", "jira"],
      entities: ["spaces"],
    });
    const { el, root } = view(model);
    const chip = q(el, '.jw-chip[data-field="source"]');
    const menu = q(el, '.jw-menu[data-field="source"]');
    expect(menu.hidden).toBe(true);
    click(chip);
    expect(menu.hidden).toBe(false);
    expect(chip.getAttribute("aria-expanded")).toBe("true");
    const boxes = qa(menu, "input[type=checkbox]");
    expect(boxes.map((b) => /** @type {HTMLInputElement} */ (b).value)).toEqual([
      "confluence",
      "jira",
    ]);

    click(boxes[1]);
    expect(model.get("filters")).toEqual({ status: [], source: ["jira"], entity: [] });
    expect(q(menu, 'input[value="jira"]')).toBe(boxes[1]); // patched, not rebuilt
    expect(chip.textContent).toContain("jira");
    // the kernel learns a new source while the menu is open: the menu follows
    model.kernel({ sources: ["confluence", "github", "jira"] });
    expect(qa(menu, "input").map((b) => /** @type {HTMLInputElement} */ (b).value)).toEqual([
      "confluence",
      "github",
      "jira",
    ]);
    expect(/** @type {HTMLInputElement} */ (q(menu, 'input[value="jira"]')).checked).toBe(true);

    press(root, "Escape");
    expect(menu.hidden).toBe(true);

    click(q(el, ".jw-clear-filters"));
    expect(model.get("filters")).toEqual({ status: [], source: [], entity: [] });
    expect(q(el, ".jw-clear-filters").hidden).toBe(true);
  });

  it("closes a menu when clicking elsewhere in the widget", () => {
    const model = new FakeModel({ jobs: jobs(1), total: 1 });
    const { el } = view(model);
    click(q(el, '.jw-chip[data-field="status"]'));
    const menu = q(el, '.jw-menu[data-field="status"]');
    expect(qa(menu, "input")).toHaveLength(5);
    expect(q(menu, 'input[value="failed"]').nextElementSibling?.textContent).toBe("failed (0)");
    model.kernel({ stats: { ...model.get("stats"), failed: 4 } });
    expect(q(menu, 'input[value="failed"]').nextElementSibling?.textContent).toBe("failed (4)");
    click(q(el, ".jw-table"));
    expect(menu.hidden).toBe(true);
  });

  it("shows empty, filtered-empty and error states", () => {
    const model = new FakeModel();
    const { el } = view(model);
    expect(q(el, ".jw-empty").textContent).toContain("No jobs yet");
    expect(q(el, ".jw-table-wrap").hidden).toBe(true);

    model.kernel({ filters: { status: ["failed"], source: [], entity: [] } });
    expect(q(el, ".jw-empty").textContent).toContain("No jobs match these filters");
    click(q(el, ".jw-empty-clear"));
    expect(model.get("filters").status).toEqual([]);

    model.kernel({
      connection: { ...model.get("connection"), state: "error", last_error: "401 Unauthorized" },
    });
    expect(q(el, ".jw-empty").textContent).toContain("could not be reached");
    expect(q(el, ".jw-alert").hidden).toBe(false);
    expect(q(el, ".jw-alert").textContent).toContain("401 Unauthorized");
    expect(q(el, ".jw-alert").textContent).toContain("token");
    expect(q(el, ".jw-alert").textContent).toContain("create the widget again");
    expect(q(el, ".jw-alert").textContent).not.toContain("retrying");

    model.kernel({ jobs: jobs(1), total: 1 });
    expect(q(el, ".jw-empty").hidden).toBe(true);
    expect(q(el, ".jw-table-wrap").hidden).toBe(false);
  });

  it("shows the truncation banner when the mirror dropped jobs", () => {
    const model = new FakeModel();
    const { el } = view(model);
    expect(q(el, ".jw-truncated").hidden).toBe(true);
    model.kernel({ truncated: 1200 });
    expect(q(el, ".jw-truncated").hidden).toBe(false);
    expect(q(el, ".jw-truncated").textContent).toContain("1,200 older jobs");
  });
});

describe("selection and batch", () => {
  it("selects ranges with shift-click", () => {
    const page = jobs(6);
    const model = new FakeModel({ jobs: page, total: 6 });
    const { el } = view(model);
    const box = (/** @type {number} */ i) => q(row(el, page[i].id), "input.jw-select");
    tick(box(1));
    tick(box(4), true);
    expect(model.get("selected_ids")).toEqual(page.slice(1, 5).map((j) => j.id));
    expect(qa(el, "tr.jw-selected")).toHaveLength(4);
    // a shift-click upwards unselects the range back to the anchor
    tick(box(2), true);
    expect(model.get("selected_ids")).toEqual([page[1].id]);
  });

  it("selects the page from the header and everything matching from the bar", () => {
    const page = jobs(3);
    const model = new FakeModel({ jobs: page, total: 40 });
    const { el } = view(model);
    const all = /** @type {HTMLInputElement} */ (q(el, "input.jw-select-page"));
    expect(q(el, ".jw-batch").hidden).toBe(true);
    tick(all);
    expect(model.get("selected_ids")).toEqual(page.map((j) => j.id));
    expect(q(el, ".jw-batch").hidden).toBe(false);
    expect(q(el, ".jw-batch-count").textContent).toBe("3 selected");

    tick(q(row(el, page[0].id), "input.jw-select"));
    expect(all.indeterminate).toBe(true);

    click(q(el, ".jw-select-matching"));
    expect(q(el, ".jw-select-matching").textContent).toBe("Select all 40 matching");
    expect(model.sent[0]).toMatchObject({ kind: "command", action: "select_matching", ids: [] });
    const everything = [...page.map((j) => j.id), ...Array.from({ length: 37 }, (_, i) => `x${i}`)];
    model.kernel({ selected_ids: everything });
    model.reply({});
    expect(all.checked).toBe(true);
    expect(q(el, ".jw-batch-count").textContent).toBe("40 selected");
    expect(el.querySelector(".jw-toast")).toBeNull();

    click(q(el, ".jw-clear-selection"));
    expect(model.get("selected_ids")).toEqual([]);
    expect(q(el, ".jw-batch").hidden).toBe(true);
  });

  it("asks once, then sends one batch command with every selected id", () => {
    const page = jobs(4);
    const model = new FakeModel({ jobs: page, total: 4, selected_ids: [page[0].id, page[2].id] });
    const { el } = view(model);
    click(q(el, 'button[data-batch="delete"]'));
    expect(model.sent).toEqual([]);
    expect(q(el, ".jw-batch .jw-confirm-text").textContent).toBe("Delete 2 jobs?");
    click(q(el, ".jw-batch button.jw-confirm-yes"));
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0]).toMatchObject({ action: "delete", ids: [page[0].id, page[2].id] });
    expect(row(el, page[0].id).classList.contains("jw-pending")).toBe(true);
    expect(q(el, 'button[data-batch="cancel"]').hasAttribute("disabled")).toBe(true);

    model.reply({ [page[0].id]: null, [page[2].id]: "job is running: cancel it first" });
    expect(q(el, ".jw-toast").textContent).toBe(
      "1 deleted, 1 failed: job is running: cancel it first×",
    );
    expect(q(el, 'button[data-batch="cancel"]').hasAttribute("disabled")).toBe(false);
  });

  it("keeps request ids unique and ignores answers to other requests", () => {
    const model = new FakeModel({ jobs: jobs(1), total: 1 });
    const { el } = view(model);
    click(q(el, ".jw-refresh"));
    click(q(el, ".jw-refresh"));
    expect(q(el, ".jw-refresh").hasAttribute("disabled")).toBe(true);
    const [first, second] = model.sent;
    expect(first.request_id).not.toBe(second.request_id);
    model.reply({}, { request_id: "someone-else" });
    expect(el.querySelector(".jw-toast")).toBeNull();
    model.reply({}, { request_id: first.request_id, ok: false, error: "kernel busy" });
    model.reply({}, { request_id: second.request_id });
    expect(qa(el, ".jw-toast").map((t) => t.dataset.tone)).toEqual(["error", "success"]);
    expect(q(el, ".jw-refresh").hasAttribute("disabled")).toBe(false);
  });
});

describe("pagination and sort", () => {
  it("sets the page from numbers, next and previous, and the page size", () => {
    const model = new FakeModel({ jobs: jobs(25), total: 1000, page_size: 25 });
    const { el } = view(model);
    const pager = q(el, ".jw-pager");
    expect(q(pager, ".jw-range").textContent).toBe("1–25 of 1,000");
    expect(qa(pager, ".jw-ellipsis")).toHaveLength(1);
    click(q(pager, 'button.jw-page[data-page="4"]'));
    expect(model.get("page")).toBe(4);
    expect(q(pager, ".jw-range").textContent).toBe("101–125 of 1,000");
    expect(q(pager, 'button[aria-current="page"]').textContent).toBe("5");
    click(q(pager, ".jw-next"));
    expect(model.get("page")).toBe(5);
    click(q(pager, ".jw-prev"));
    expect(model.get("page")).toBe(4);

    const size = /** @type {HTMLSelectElement} */ (q(pager, "select.jw-page-size"));
    expect([...size.options].map((o) => o.value)).toEqual(["10", "25", "50", "100", "250"]);
    size.value = "100";
    size.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("page_size")).toBe(100);
    expect(model.get("page")).toBe(0);
    expect(q(pager, ".jw-prev").hasAttribute("disabled")).toBe(true);
  });

  it("sorts by a column and flips the direction on a second click", () => {
    const model = new FakeModel({ jobs: jobs(2), total: 2 });
    const { el } = view(model);
    click(q(el, 'button[data-sort="name"]'));
    expect(model.get("sort")).toEqual({ by: "name", descending: false });
    click(q(el, 'button[data-sort="name"]'));
    expect(model.get("sort")).toEqual({ by: "name", descending: true });
    expect(q(el, 'button[data-sort="name"]').closest("th")?.getAttribute("aria-sort")).toBe(
      "descending",
    );
  });
});

describe("keyboard", () => {
  it("moves the cursor with j/k, selects with x, expands with Enter, closes with Escape", () => {
    const page = [job(), job({ status: "completed" }), job()];
    const model = new FakeModel({ jobs: page, total: 3 });
    const { el, root } = view(model);
    const cursor = () => el.querySelector("tr.jw-cursor")?.getAttribute("data-id");
    press(root, "j");
    expect(cursor()).toBe(page[0].id);
    press(root, "j");
    press(root, "j");
    press(root, "j"); // stays on the last row
    expect(cursor()).toBe(page[2].id);
    press(root, "k");
    expect(cursor()).toBe(page[1].id);
    press(root, "x");
    expect(model.get("selected_ids")).toEqual([page[1].id]);
    press(root, "x");
    expect(model.get("selected_ids")).toEqual([]);
    press(root, "Enter");
    expect(q(el, "tr.jw-details").dataset.id).toBe(page[1].id);

    click(q(row(el, page[1].id), 'button[data-action="delete"]'));
    expect(el.querySelector(".jw-confirm-yes")).not.toBeNull();
    press(root, "Escape");
    expect(el.querySelector(".jw-confirm-yes")).toBeNull();

    // the cursor survives its row leaving the page by moving to a neighbour
    model.kernel({ jobs: [page[0], page[2]] });
    expect(cursor()).toBe(page[2].id);
  });

  it("leaves keys typed into form fields alone", () => {
    const model = new FakeModel({ jobs: jobs(2), total: 2 });
    const { el } = view(model);
    press(q(el, "select.jw-page-size"), "j");
    expect(el.querySelector("tr.jw-cursor")).toBeNull();
  });
});
