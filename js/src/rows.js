/** One table row per job, keyed by id and patched in place; plus its optional details row. */

import { h, setAttr, setText } from "./dom.js";
import {
  exactTime,
  humanDuration,
  parseTime,
  plural,
  count,
  relativeTime,
  shortId,
} from "./format.js";
import { isActive } from "./types.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").JobAction} JobAction */

/** Number of columns of the jobs table (the details row spans them all). */
export const COLUMNS = 11;

/** @type {Record<JobAction, string>} */
const ACTION_LABELS = { cancel: "Cancel", rerun: "Rerun", delete: "Delete" };

/**
 * Whether two rows carry the same values (the kernel sends fresh objects every flush).
 *
 * @param {Job} a
 * @param {Job} b
 * @returns {boolean}
 */
function sameJob(a, b) {
  for (const key of /** @type {(keyof Job)[]} */ (Object.keys(b))) {
    if (a[key] !== b[key]) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}

/**
 * The progress bar's percentage, clamped to 0-100.
 *
 * @param {Job} job
 * @returns {number}
 */
function percent(job) {
  const p = Number(job.percentage);
  return Number.isFinite(p) ? Math.min(100, Math.max(0, Math.round(p))) : 0;
}

/** The DOM of one job: a `tr.jw-row`, patched field by field when the job changes. */
export class RowView {
  /**
   * @param {Job} job
   * @param {number} now  epoch ms, for relative times
   */
  constructor(job, now) {
    /** @type {Job} */
    this.job = job;
    /** @type {HTMLTableRowElement | null} */
    this.details = null;
    /** @type {string} */
    this.actionsKey = "";
    /** @type {JobAction | null} */
    this.confirming = null;
    this.pending = false;

    this.select = h("input", { type: "checkbox", class: "jw-select" });
    this.idButton = h("button", { type: "button", class: "jw-id" });
    this.nameCell = h("td", { class: "jw-name" });
    this.originCell = h("td", { class: "jw-origin" });
    this.status = h("span", { class: "jw-status" });
    this.fill = h("div", { class: "jw-progress-fill" });
    this.bar = h(
      "div",
      { class: "jw-progress-bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 },
      [this.fill],
    );
    this.progressText = h("span", { class: "jw-progress-text" });
    this.progress = h("div", { class: "jw-progress" }, [this.bar, this.progressText]);
    this.resultCount = h("span", { class: "jw-result-count" });
    this.failedCount = h("span", { class: "jw-failed-count" });
    this.created = h("time", { class: "jw-created" });
    this.duration = h("td", { class: "jw-duration" });
    this.error = h("div", { class: "jw-error" });
    this.actions = h("td", { class: "jw-actions" });

    this.tr = h("tr", { class: "jw-row", "data-id": job.id }, [
      h("td", { class: "jw-cell-select" }, [this.select]),
      h("td", { class: "jw-cell-id" }, [this.idButton]),
      this.nameCell,
      this.originCell,
      h("td", { class: "jw-cell-status" }, [this.status]),
      h("td", { class: "jw-cell-progress" }, [this.progress]),
      h("td", { class: "jw-results" }, [this.resultCount, this.failedCount]),
      h("td", { class: "jw-cell-created" }, [this.created]),
      this.duration,
      h("td", { class: "jw-cell-error" }, [this.error]),
      this.actions,
    ]);
    this.render(now);
  }

  /** @returns {HTMLTableRowElement[]} the row and, when expanded, its details row, in order */
  elements() {
    return this.details ? [this.tr, this.details] : [this.tr];
  }

  /**
   * Apply a new version of the job; unchanged rows cost one shallow comparison.
   *
   * @param {Job} job
   * @param {number} now
   */
  patch(job, now) {
    if (sameJob(this.job, job)) return;
    this.job = job;
    this.render(now);
  }

  /** @param {number} now */
  render(now) {
    const job = this.job;
    const id = String(job.id);
    const name = job.name || "(unnamed)";
    setAttr(this.tr, "data-status", job.status);
    setAttr(this.select, "aria-label", `Select ${name}`);
    setText(this.idButton, shortId(id));
    setAttr(this.idButton, "title", `${id} (click to copy)`);
    setAttr(this.idButton, "aria-label", `Copy job id ${id}`);
    setText(this.nameCell, name);
    setAttr(this.nameCell, "title", name);
    const origin = [job.source_type, job.entity_type].filter(Boolean).join(" / ");
    setText(this.originCell, origin);
    setAttr(this.originCell, "title", origin);
    setText(this.status, job.status);
    setAttr(this.status, "data-status", job.status);

    const pct = percent(job);
    const done = Number(job.completed_urls) || 0;
    const total = Number(job.total_urls) || 0;
    setAttr(this.progress, "data-status", job.status);
    setAttr(this.bar, "aria-valuenow", String(pct));
    setAttr(this.bar, "aria-label", `${name}: ${pct}% done`);
    if (this.fill.style.width !== `${pct}%`) this.fill.style.width = `${pct}%`;
    setText(this.progressText, total > 0 ? `${count(done)}/${count(total)} · ${pct}%` : `${pct}%`);
    setAttr(
      this.progress,
      "title",
      `${plural(done, "URL")} done, ${count(Number(job.failed_urls) || 0)} failed, ` +
        `${count(Number(job.pending_urls) || 0)} pending of ${count(total)}`,
    );

    setText(this.resultCount, count(Number(job.result_count) || 0));
    setAttr(this.resultCount, "title", "results");
    const failed = Number(job.failed_count) || 0;
    setText(this.failedCount, failed > 0 ? `${count(failed)} failed` : "");

    const createdMs = parseTime(job.created_at);
    setAttr(this.created, "datetime", job.created_at ?? null);
    setAttr(this.created, "title", createdMs === null ? null : exactTime(createdMs));

    const err = job.error || "";
    setText(this.error, err);
    setAttr(this.error, "title", err || null);
    setAttr(this.error, "role", err ? "button" : null);
    setAttr(this.error, "tabindex", err ? "0" : null);
    setAttr(
      this.error,
      "aria-expanded",
      err ? String(this.error.classList.contains("jw-expanded")) : null,
    );
    this.error.hidden = !err;

    this.tick(now);
    this.renderActions();
    if (this.details) this.fillDetails(now);
  }

  /**
   * Refresh what depends on the clock: the relative created time, a running job's duration.
   *
   * @param {number} now
   */
  tick(now) {
    const job = this.job;
    const createdMs = parseTime(job.created_at);
    setText(this.created, createdMs === null ? "" : relativeTime(createdMs, now));
    const started = parseTime(job.started_at);
    const live = job.duration === null && job.status === "running" && started !== null;
    const seconds = live ? Math.max(0, (now - started) / 1000) : job.duration;
    setText(this.duration, humanDuration(seconds ?? null));
    setAttr(this.duration, "title", live ? "running for" : null);
  }

  /** Rebuild the action buttons when status, confirmation or pending state changed. */
  renderActions() {
    const active = isActive(this.job.status);
    const key = `${active}|${this.confirming}|${this.pending}`;
    if (key === this.actionsKey) return;
    this.actionsKey = key;
    const name = this.job.name || shortId(String(this.job.id));
    if (this.confirming) {
      const label = ACTION_LABELS[this.confirming];
      this.actions.replaceChildren(
        h("span", { class: "jw-confirm-text", text: `${label} this job?` }),
        h("button", {
          type: "button",
          class: "jw-confirm-yes",
          "data-confirm": this.confirming,
          "aria-label": `Yes, ${label.toLowerCase()} ${name}`,
          text: "Yes",
        }),
        h("button", { type: "button", class: "jw-confirm-no", "aria-label": "No", text: "No" }),
      );
      return;
    }
    /** @type {JobAction[]} */
    const allowed = active ? ["cancel"] : ["rerun", "delete"];
    this.actions.replaceChildren(
      ...allowed.map((action) =>
        h("button", {
          type: "button",
          class: "jw-action",
          "data-action": action,
          "aria-label": `${ACTION_LABELS[action]} ${name}`,
          disabled: this.pending,
          text: ACTION_LABELS[action],
        }),
      ),
    );
  }

  /** @param {boolean} on */
  setSelected(on) {
    if (this.select.checked !== on) this.select.checked = on;
    this.tr.classList.toggle("jw-selected", on);
  }

  /** @param {boolean} on */
  setCursor(on) {
    this.tr.classList.toggle("jw-cursor", on);
    setAttr(this.tr, "aria-current", on ? "true" : null);
  }

  /** @param {boolean} on  a command about this job is waiting for the kernel */
  setPending(on) {
    if (this.pending === on) return;
    this.pending = on;
    this.tr.classList.toggle("jw-pending", on);
    setAttr(this.tr, "aria-busy", on ? "true" : null);
    this.renderActions();
  }

  /** @param {JobAction | null} action  the destructive action awaiting "Yes", if any */
  setConfirm(action) {
    if (this.confirming === action) return;
    this.confirming = action;
    this.renderActions();
  }

  /** Toggle the full error text in place. */
  toggleError() {
    const open = this.error.classList.toggle("jw-expanded");
    setAttr(this.error, "aria-expanded", String(open));
  }

  /**
   * Show or hide the details row under this row.
   *
   * @param {boolean} on
   * @param {number} now
   */
  setExpanded(on, now) {
    setAttr(this.tr, "aria-expanded", String(on));
    if (on && !this.details) {
      this.details = h("tr", { class: "jw-details", "data-id": String(this.job.id) });
      this.fillDetails(now);
      this.tr.after(this.details);
    } else if (!on && this.details) {
      this.details.remove();
      this.details = null;
    }
  }

  /** @param {number} now */
  fillDetails(now) {
    if (!this.details) return;
    const job = this.job;
    /** @param {string | null} iso */
    const when = (iso) => {
      const ms = parseTime(iso);
      return ms === null ? "" : `${exactTime(ms)} (${relativeTime(ms, now)})`;
    };
    /** @type {[string, string][]} */
    const fields = [
      ["Job id", String(job.id)],
      ["Status", job.status],
      ["Error", job.error || ""],
      ["Current URL", job.current_url || ""],
      [
        "URLs",
        `${count(Number(job.completed_urls) || 0)} done, ${count(Number(job.failed_urls) || 0)} ` +
          `failed, ${count(Number(job.pending_urls) || 0)} pending, ` +
          `${count(Number(job.total_urls) || 0)} total`,
      ],
      [
        "Results",
        `${count(Number(job.result_count) || 0)} saved, ${count(Number(job.failed_count) || 0)} failed`,
      ],
      ["Created", when(job.created_at)],
      ["Started", when(job.started_at)],
      ["Completed", when(job.completed_at)],
      ["Duration", humanDuration(job.duration)],
    ];
    const list = h("dl", { class: "jw-details-list" });
    for (const [label, value] of fields) {
      if (!value) continue;
      list.append(h("dt", { text: label }), h("dd", { text: value }));
    }
    const cell = h("td", { colspan: COLUMNS }, [list]);
    this.details.replaceChildren(cell);
  }

  /** Take the row (and its details) out of the table. */
  remove() {
    this.tr.remove();
    this.details?.remove();
    this.details = null;
  }
}
