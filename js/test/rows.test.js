/** The jobs table: rendering, patching rows in place, escaping, per-row actions and details. */

import { describe, expect, it, vi } from "vitest";
import { click, FakeModel, job, jobs, view, press, q, qa, row, rowIds } from "./helpers.js";

describe("rows", () => {
  it("renders one row per job with its fields, and the counters", () => {
    const a = job({ name: "Confluence docs", status: "running", percentage: 30 });
    const b = job({ name: "Jira", status: "failed", error: "boom: upstream 500", total_urls: 4 });
    const model = new FakeModel({
      jobs: [a, b],
      total: 2,
      stats: {
        total: 7,
        pending: 1,
        running: 2,
        completed: 1,
        failed: 2,
        cancelled: 1,
        queue: null,
      },
    });
    const { el } = view(model);

    expect(rowIds(el)).toEqual([a.id, b.id]);
    const ra = row(el, a.id);
    expect(q(ra, ".jw-name").textContent).toBe("Confluence docs");
    expect(q(ra, ".jw-status").dataset.status).toBe("running");
    expect(q(ra, ".jw-progress-text").textContent).toBe("3/10 · 30%");
    expect(q(ra, ".jw-progress-bar").getAttribute("aria-valuenow")).toBe("30");
    expect(q(ra, ".jw-id").textContent).toBe(a.id.slice(0, 8));
    expect(q(ra, ".jw-id").title).toContain(a.id);
    expect(q(ra, ".jw-created").textContent).toBe("3 min ago");
    expect(q(ra, ".jw-duration").textContent).toBe("2m 00s");
    expect(qa(ra, "button[data-action]").map((b) => b.dataset.action)).toEqual(["cancel"]);

    const rb = row(el, b.id);
    expect(q(rb, ".jw-error").textContent).toBe("boom: upstream 500");
    expect(qa(rb, "button[data-action]").map((b) => b.dataset.action)).toEqual(["rerun", "delete"]);

    const counts = Object.fromEntries(
      qa(el, ".jw-counter").map((c) => [c.dataset.status, q(c, ".jw-count").textContent]),
    );
    expect(counts).toEqual({
      total: "7",
      pending: "1",
      running: "2",
      completed: "1",
      failed: "2",
      cancelled: "1",
    });
  });

  it("patches rows in place: the same tr survives updates; removed jobs' rows go away", () => {
    const [a, b, c] = jobs(3);
    const model = new FakeModel({ jobs: [a, b, c], total: 3 });
    const { el } = view(model);
    const trA = row(el, a.id);
    const trB = row(el, b.id);
    const statusA = q(trA, ".jw-status");

    model.kernel({
      jobs: [{ ...a, status: "completed", percentage: 100, completed_urls: 10, duration: 65 }, b],
    });
    expect(row(el, a.id)).toBe(trA);
    expect(row(el, b.id)).toBe(trB);
    expect(q(trA, ".jw-status")).toBe(statusA);
    expect(statusA.dataset.status).toBe("completed");
    expect(q(trA, ".jw-duration").textContent).toBe("1m 05s");
    expect(qa(trA, "button[data-action]").map((x) => x.dataset.action)).toEqual([
      "rerun",
      "delete",
    ]);
    expect(el.querySelector(`tr[data-id="${c.id}"]`)).toBeNull();

    // reorder: the same elements move
    model.kernel({ jobs: [b, a] });
    expect(rowIds(el)).toEqual([b.id, a.id]);
    expect(row(el, a.id)).toBe(trA);
  });

  it("shows a hostile name as text and creates no element from it", () => {
    const evil = job({ name: "<img src=x onerror=alert(1)>", error: "<b>bold</b>" });
    const model = new FakeModel({ jobs: [evil], total: 1 });
    const { el } = view(model);
    expect(q(row(el, evil.id), ".jw-name").textContent).toBe("<img src=x onerror=alert(1)>");
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
    click(q(row(el, evil.id), ".jw-name"));
    press(row(el, evil.id), "Enter"); // the details row renders it as text too
    expect(q(el, "tr.jw-details").textContent).toContain("<b>bold</b>");
    expect(el.querySelector("img, b")).toBeNull();
  });

  it("asks before delete and cancel, and sends nothing on No", () => {
    const done = job({ status: "completed" });
    const running = job({ status: "running" });
    const model = new FakeModel({ jobs: [done, running], total: 2 });
    const { el } = view(model);

    click(q(row(el, done.id), 'button[data-action="delete"]'));
    expect(model.sent).toEqual([]);
    expect(q(row(el, done.id), ".jw-confirm-text").textContent).toBe("Delete this job?");
    click(q(row(el, done.id), ".jw-confirm-no"));
    expect(model.sent).toEqual([]);
    expect(row(el, done.id).querySelector(".jw-confirm-yes")).toBeNull();

    click(q(row(el, running.id), 'button[data-action="cancel"]'));
    click(q(row(el, running.id), "button.jw-confirm-yes"));
    expect(model.sent).toHaveLength(1);
    expect(model.sent[0]).toMatchObject({ kind: "command", action: "cancel", ids: [running.id] });
  });

  it("shows the request as pending until the kernel answers, then a toast", () => {
    const done = job({ status: "failed" });
    const model = new FakeModel({ jobs: [done], total: 1 });
    const { el } = view(model);

    click(q(row(el, done.id), 'button[data-action="rerun"]')); // rerun does not ask
    const sent = model.sent[0];
    expect(sent).toMatchObject({ action: "rerun", ids: [done.id] });
    expect(row(el, done.id).classList.contains("jw-pending")).toBe(true);
    expect(
      qa(row(el, done.id), "button[data-action]").every((b) => b.hasAttribute("disabled")),
    ).toBe(true);

    model.reply({ [done.id]: "job is running" });
    expect(row(el, done.id).classList.contains("jw-pending")).toBe(false);
    const toast = q(el, ".jw-toast");
    expect(toast.textContent).toContain("1 failed: job is running");
    expect(toast.dataset.tone).toBe("error");
    click(q(toast, ".jw-toast-close"));
    expect(el.querySelector(".jw-toast")).toBeNull();
  });

  it("expands the error on click and Enter, details on Enter", () => {
    const failed = job({ status: "failed", error: "a long error", current_url: "https://x.org/p" });
    const model = new FakeModel({ jobs: [failed], total: 1 });
    const { el, root } = view(model);
    const error = q(row(el, failed.id), ".jw-error");
    click(error);
    expect(error.classList.contains("jw-expanded")).toBe(true);
    press(error, "Enter");
    expect(error.classList.contains("jw-expanded")).toBe(false);

    press(root, "j");
    press(root, "Enter");
    const details = q(el, `tr.jw-details[data-id="${failed.id}"]`);
    expect(details.previousElementSibling).toBe(row(el, failed.id));
    expect(details.textContent).toContain("https://x.org/p");
    expect(details.textContent).toContain("a long error");
    // details follow their row when the page is patched and reordered
    const other = job();
    model.kernel({ jobs: [{ ...failed, current_url: "https://x.org/q" }, other] });
    expect(q(el, "tr.jw-details").textContent).toContain("https://x.org/q");
    model.kernel({ jobs: [other, failed] });
    expect(q(el, "tr.jw-details").previousElementSibling).toBe(row(el, failed.id));
    press(root, "Enter");
    expect(el.querySelector("tr.jw-details")).toBeNull();
  });

  it("copies the full id with the clipboard when there is one", async () => {
    const a = job();
    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    try {
      const model = new FakeModel({ jobs: [a], total: 1 });
      const { el } = view(model);
      click(q(row(el, a.id), ".jw-id"));
      expect(writeText).toHaveBeenCalledWith(a.id);
      await vi.waitFor(() => expect(q(el, ".jw-toast").textContent).toContain("Copied"));
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("patches a 50-row page quickly (time logged)", () => {
    const page = jobs(50);
    const model = new FakeModel({ jobs: page, total: 500 });
    const { el } = view(model);
    const trs = qa(el, "tr.jw-row");
    /** @type {number[]} */
    const times = [];
    for (let round = 1; round <= 20; round++) {
      const next = page.map((j, i) => ({
        ...j,
        completed_urls: round,
        percentage: (round * 5) % 100,
        status: /** @type {import("../src/types.js").Status} */ (
          i % 7 === round % 7 ? "completed" : "running"
        ),
      }));
      const t0 = performance.now();
      model.kernel({ jobs: next });
      times.push(performance.now() - t0);
    }
    expect(qa(el, "tr.jw-row")).toEqual(trs); // every row patched in place
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)];
    console.log(
      `jobs change of a 50-row page (jsdom): median ${median.toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`,
    );
    // the last round landed: row 6 is the one completed in round 20 (6 === 20 % 7)
    const statuses = qa(el, "tr.jw-row .jw-status").map((b) => b.getAttribute("data-status"));
    expect(statuses[6]).toBe("completed");
    expect(statuses.filter((s) => s === "completed")).toHaveLength(Math.ceil((50 - 6) / 7));
  });
});
