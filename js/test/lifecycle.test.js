/** The connection badge and its clock, several views of one model, and cleanup. */

import { describe, expect, it, vi } from "vitest";
import widget from "../src/widget.js";
import { click, FakeModel, job, jobs, mount, view, q, row } from "./helpers.js";

/**
 * @param {FakeModel} model
 * @param {Partial<import("../src/types.js").Connection>} fields
 */
function connect(model, fields) {
  model.kernel({ connection: { ...model.get("connection"), ...fields } });
}

describe("connection badge", () => {
  it("shows live, polling, closed and error with its message", () => {
    const model = new FakeModel();
    const { el } = view(model);
    const badge = q(el, ".jw-conn");
    expect(badge.dataset.state).toBe("live");
    expect(badge.textContent).toBe("Live");
    connect(model, { state: "polling" });
    expect(badge.dataset.state).toBe("polling");
    expect(badge.textContent).toBe("Polling");
    connect(model, { state: "error", last_error: "connection refused" });
    expect(badge.dataset.state).toBe("error");
    expect(badge.textContent).toBe("Error: connection refused");
    connect(model, { state: "closed" });
    expect(badge.textContent).toBe("Closed");
    expect(q(el, ".jw-alert").hidden).toBe(true);
  });

  it("counts a reconnect down locally from retry_in", () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const { el } = view(model);
    connect(model, { state: "connecting", retry_in: 5, reconnect_attempts: 2 });
    const text = q(el, ".jw-conn-text");
    expect(text.textContent).toBe("Reconnecting in 5s");
    vi.advanceTimersByTime(2000);
    expect(text.textContent).toBe("Reconnecting in 3s");
    vi.advanceTimersByTime(5000);
    expect(text.textContent).toBe("Reconnecting…");
    expect(q(el, ".jw-conn").title).toContain("2 reconnect attempts");
  });

  it("says stale when live but silent for over a minute", () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const { el } = view(model);
    const badge = q(el, ".jw-conn");
    vi.advanceTimersByTime(59_000);
    expect(badge.textContent).toBe("Live");
    vi.advanceTimersByTime(3_000);
    expect(badge.dataset.stale).toBe("true");
    expect(badge.textContent).toMatch(/^Stale since \d\d:\d\d:\d\d$/);
    connect(model, { last_message_at: new Date().toISOString() });
    expect(badge.textContent).toBe("Live");
    expect(badge.hasAttribute("data-stale")).toBe(false);
  });

  it("keeps relative times fresh with its clock", () => {
    vi.useFakeTimers();
    const a = job({ created_at: new Date().toISOString() });
    const model = new FakeModel({ jobs: [a], total: 1 });
    const { el } = view(model);
    const created = q(row(el, a.id), ".jw-created");
    expect(created.textContent).toBe("just now");
    vi.advanceTimersByTime(5 * 60_000);
    expect(created.textContent).toBe("5 min ago");
  });
});

describe("several views of one model", () => {
  it("stay in sync through the model, and answers go to the view that asked", () => {
    const page = jobs(3);
    const model = new FakeModel({ jobs: page, total: 3 });
    const one = view(model);
    const two = view(model);

    click(q(row(one.el, page[1].id), "input.jw-select"));
    const box = /** @type {HTMLInputElement} */ (q(row(two.el, page[1].id), "input.jw-select"));
    expect(box.checked).toBe(true);
    expect(q(two.el, ".jw-batch-count").textContent).toBe("1 selected");

    model.kernel({ jobs: [{ ...page[0], status: "failed" }, page[1]] });
    for (const v of [one, two]) {
      expect(q(row(v.el, page[0].id), ".jw-status").dataset.status).toBe("failed");
      expect(v.el.querySelector(`tr[data-id="${page[2].id}"]`)).toBeNull();
    }

    click(q(one.el, ".jw-refresh"));
    click(q(two.el, ".jw-refresh"));
    expect(model.sent[0].request_id).not.toBe(model.sent[1].request_id);
    model.reply({}, { request_id: model.sent[0].request_id });
    expect(one.el.querySelector(".jw-toast")).not.toBeNull();
    expect(two.el.querySelector(".jw-toast")).toBeNull();
    expect(q(two.el, ".jw-refresh").hasAttribute("disabled")).toBe(true);
  });
});

describe("cleanup", () => {
  it("removes every model listener, timer and element of the view", () => {
    vi.useFakeTimers();
    const model = new FakeModel({ jobs: jobs(3), total: 3 });
    const init = widget.initialize({ model });
    const timersBefore = vi.getTimerCount();
    const one = mount(model);
    const two = mount(model);
    expect(model.handlerCount()).toBeGreaterThan(0);
    const perView = model.handlerCount() / 2;

    click(q(row(one.el, model.get("jobs")[0].id), 'button[data-action="cancel"]'));
    click(q(one.el, "button.jw-confirm-yes"));
    model.reply({ [model.get("jobs")[0].id]: null }); // a success toast starts a timer
    expect(vi.getTimerCount()).toBeGreaterThan(timersBefore);

    one.cleanup();
    expect(model.handlerCount()).toBe(perView);
    expect(one.el.querySelector(".jobwidget")).toBeNull();
    // the remaining view still works
    model.kernel({ jobs: [] });
    expect(q(two.el, ".jw-empty").hidden).toBe(false);

    two.cleanup();
    init();
    expect(model.handlerCount()).toBe(0);
    vi.advanceTimersByTime(100); // jsdom's own zero-delay focus timers; ours are 1 s and longer
    expect(vi.getTimerCount()).toBe(timersBefore);
    // events after cleanup reach nobody and break nothing
    model.kernel({ jobs: jobs(2) });
    model.reply({});
  });
});
