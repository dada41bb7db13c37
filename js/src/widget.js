/** The anywidget view of JobQueueWidget: renders the kernel's traits and sends the user's intent. */

import { closest, h, setAttr, setText } from "./dom.js";
import { connectionBadge, count, pageItems, plural, shortId, summarizeResult } from "./format.js";
import { RowView } from "./rows.js";
import { buildSkeleton, FIELD_LABELS, FIELDS } from "./skeleton.js";
import { DEFAULTS, isResult, PAGE_SIZES, STATUSES } from "./types.js";

/** @typedef {import("./types.js").Action} Action */
/** @typedef {import("./types.js").Connection} Connection */
/** @typedef {import("./types.js").FilterField} FilterField */
/** @typedef {import("./types.js").Filters} Filters */
/** @typedef {import("./types.js").Handler} Handler */
/** @typedef {import("./types.js").JobAction} JobAction */
/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").SortKey} SortKey */
/** @typedef {import("./types.js").Stats} Stats */
/** @typedef {import("./types.js").Traits} Traits */
/** @typedef {import("./format.js").Tone} Tone */

/**
 * @typedef {object} PendingRequest  A command sent to the kernel and not yet answered.
 * @property {Action} action
 * @property {string[]} ids
 * @property {boolean} batch  sent from the batch bar
 */

/** How long a success toast stays before it dismisses itself (errors stay until dismissed). */
const TOAST_MS = 8000;
/** At most this many toasts are shown; older ones give way. */
const MAX_TOASTS = 4;

/** @type {Record<JobAction, [string, string]>} */
const BATCH_LABELS = {
  cancel: ["Cancel", "cancel"],
  rerun: ["Rerun", "rerun"],
  delete: ["Delete", "delete"],
};

let viewCount = 0;

/** One rendering of the widget into one output element. */
class JobQueueView {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.model = model;
    this.viewId = `v${++viewCount}-${Math.random().toString(36).slice(2, 8)}`;
    this.seq = 0;
    this.destroyed = false;
    /** @type {Map<string, RowView>} */
    this.rows = new Map();
    /** @type {string[]} ids of the page, in display order */
    this.order = [];
    /** @type {string | null} */
    this.cursorId = null;
    /** @type {string | null} the last row clicked without shift: one end of a shift-click range */
    this.anchorId = null;
    /** @type {Set<string>} */
    this.expanded = new Set();
    /** @type {{id: string | null, action: JobAction} | null} id null = the batch bar */
    this.confirm = null;
    /** @type {Map<string, PendingRequest>} */
    this.pending = new Map();
    /** @type {FilterField | null} */
    this.openField = null;
    /** when the connection trait last changed, epoch ms: retry_in counts down from it */
    this.connectionAt = Date.now();
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.timeouts = new Set();
    /** a batch command is waiting for the kernel */
    this.batchBusy = false;
    /** what the batch buttons were last built for */
    this.batchKey = "";
    /** what the pager was last built for */
    this.pagerKey = "";
    /** @type {Map<FilterField, string>} the values each filter menu was last built for */
    this.menuKeys = new Map();

    this.ui = buildSkeleton();
    const root = this.ui.root;
    root.addEventListener("click", this.onClick);
    root.addEventListener("change", this.onChange);
    root.addEventListener("keydown", this.onKeyDown);
    root.addEventListener("focusout", this.onFocusOut);
    el.replaceChildren(root);
    /** @type {[string, Handler][]} */
    this.listeners = [
      ["change:jobs", () => this.renderJobs()],
      ["change:stats", () => this.renderCounters()],
      ["change:connection", () => this.onConnection()],
      ["change:total", () => this.renderPaging()],
      ["change:page", () => this.renderPaging()],
      ["change:page_size", () => this.renderPaging()],
      ["change:sources", () => this.renderFilters()],
      ["change:entities", () => this.renderFilters()],
      ["change:filters", () => this.onFilters()],
      ["change:truncated", () => this.renderTruncated()],
      ["change:sort", () => this.renderSort()],
      ["change:selected_ids", () => this.renderSelection()],
      ["msg:custom", (/** @type {unknown} */ msg) => this.onMessage(msg)],
    ];
    for (const [event, handler] of this.listeners) model.on(event, handler);
    this.timer = setInterval(() => this.tick(), 1000);
    this.renderAll();
  }

  /**
   * A trait's current value, or its default while the kernel has not sent it.
   *
   * @template {keyof Traits} K
   * @param {K} name
   * @returns {Traits[K]}
   */
  get(name) {
    return this.model.get(name) ?? DEFAULTS[name];
  }

  /** @returns {Filters} */
  filters() {
    return { ...DEFAULTS.filters, ...this.get("filters") };
  }

  /**
   * Set two-way traits and send them to the kernel in one message.
   *
   * @param {Partial<Traits>} changes
   */
  save(changes) {
    for (const [name, value] of Object.entries(changes)) {
      this.model.set(/** @type {keyof Traits} */ (name), /** @type {never} */ (value));
    }
    this.model.save_changes();
  }

  // ------------------------------------------------------------------ lifecycle

  renderAll() {
    this.renderCounters();
    this.renderConnection();
    this.renderTruncated();
    this.renderFilters();
    this.renderSort();
    this.renderJobs();
  }

  destroy() {
    this.destroyed = true;
    for (const [event, handler] of this.listeners) this.model.off(event, handler);
    clearInterval(this.timer);
    for (const t of this.timeouts) clearTimeout(t);
    this.timeouts.clear();
    this.ui.root.removeEventListener("click", this.onClick);
    this.ui.root.removeEventListener("change", this.onChange);
    this.ui.root.removeEventListener("keydown", this.onKeyDown);
    this.ui.root.removeEventListener("focusout", this.onFocusOut);
    this.ui.root.remove();
  }

  /**
   * Run `fn` after `ms`, unless the view is gone by then.
   *
   * @param {() => void} fn
   * @param {number} ms
   */
  later(fn, ms) {
    const t = setTimeout(() => {
      this.timeouts.delete(t);
      fn();
    }, ms);
    this.timeouts.add(t);
  }

  tick() {
    const now = Date.now();
    this.renderConnection(now);
    for (const row of this.rows.values()) row.tick(now);
  }

  // ------------------------------------------------------------------ rows

  renderJobs() {
    const started = performance.now();
    const now = Date.now();
    const selected = new Set(this.get("selected_ids"));
    const busy = this.pendingIds();
    /** @type {string[]} */
    const order = [];
    const seen = new Set();
    for (const job of this.get("jobs")) {
      const id = job && String(job.id);
      if (!id || seen.has(id)) continue;
      seen.add(id);
      order.push(id);
      const row = this.rows.get(id);
      if (row) {
        row.patch(job, now);
      } else {
        const fresh = new RowView(job, now);
        fresh.setSelected(selected.has(id));
        fresh.setPending(busy.has(id));
        if (this.expanded.has(id)) fresh.setExpanded(true, now);
        this.rows.set(id, fresh);
      }
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      row.remove();
      this.rows.delete(id);
      this.expanded.delete(id);
    }
    // Move rows into display order, touching only those out of place.
    let next = this.ui.tbody.firstChild;
    for (const id of order) {
      for (const tr of /** @type {RowView} */ (this.rows.get(id)).elements()) {
        if (tr === next) next = next.nextSibling;
        else this.ui.tbody.insertBefore(tr, next);
      }
    }
    const oldIndex = this.cursorId === null ? -1 : this.order.indexOf(this.cursorId);
    this.order = order;
    if (this.cursorId !== null && !seen.has(this.cursorId)) {
      this.moveCursorTo(order.length ? order[Math.min(oldIndex, order.length - 1)] : null);
    }
    if (this.confirm?.id && !seen.has(this.confirm.id)) this.confirm = null;
    this.renderPageCheckbox(selected);
    this.renderPaging();
    // How long applying this page took, for the end-to-end tests' measurement.
    setAttr(this.ui.root, "data-render-ms", (performance.now() - started).toFixed(2));
  }

  /** @returns {Set<string>} ids with a command waiting for the kernel */
  pendingIds() {
    const ids = new Set();
    for (const req of this.pending.values()) for (const id of req.ids) ids.add(id);
    return ids;
  }

  renderSelection() {
    const selected = new Set(this.get("selected_ids"));
    for (const [id, row] of this.rows) row.setSelected(selected.has(id));
    this.renderPageCheckbox(selected);
    this.renderBatch();
  }

  /** @param {Set<string>} selected */
  renderPageCheckbox(selected) {
    const on = this.order.filter((id) => selected.has(id)).length;
    this.ui.selectPage.checked = on > 0 && on === this.order.length;
    this.ui.selectPage.indeterminate = on > 0 && on < this.order.length;
    this.ui.selectPage.disabled = this.order.length === 0;
  }

  /** @param {string | null} id */
  moveCursorTo(id) {
    if (this.cursorId !== null) this.rows.get(this.cursorId)?.setCursor(false);
    this.cursorId = id;
    if (id === null) return;
    const row = this.rows.get(id);
    row?.setCursor(true);
    row?.tr.scrollIntoView?.({ block: "nearest" });
  }

  /** @param {number} step */
  moveCursor(step) {
    if (this.order.length === 0) return;
    const at = this.cursorId === null ? -1 : this.order.indexOf(this.cursorId);
    const to = at === -1 ? 0 : Math.min(this.order.length - 1, Math.max(0, at + step));
    this.moveCursorTo(this.order[to]);
  }

  /** @param {string} id */
  toggleExpanded(id) {
    const row = this.rows.get(id);
    if (!row) return;
    const on = !this.expanded.has(id);
    if (on) this.expanded.add(id);
    else this.expanded.delete(id);
    row.setExpanded(on, Date.now());
  }

  /**
   * Select or unselect ids, keeping the order of those already selected.
   *
   * @param {string[]} ids
   * @param {boolean} on
   */
  selectIds(ids, on) {
    const current = this.get("selected_ids");
    if (on) {
      const have = new Set(current);
      this.save({ selected_ids: [...current, ...ids.filter((id) => !have.has(id))] });
    } else {
      const drop = new Set(ids);
      this.save({ selected_ids: current.filter((id) => !drop.has(id)) });
    }
  }

  /**
   * A row checkbox was clicked: toggle it, or with shift the range from the last clicked row.
   *
   * @param {string} id
   * @param {boolean} on  the checkbox's new state
   * @param {boolean} range  shift was held
   */
  clickSelect(id, on, range) {
    const from = this.anchorId === null ? -1 : this.order.indexOf(this.anchorId);
    const to = this.order.indexOf(id);
    if (range && from !== -1 && to !== -1) {
      this.selectIds(this.order.slice(Math.min(from, to), Math.max(from, to) + 1), on);
    } else {
      this.selectIds([id], on);
    }
    this.anchorId = id;
  }

  // ------------------------------------------------------------------ commands

  /**
   * Send a command to the kernel and show it as pending until the answer arrives.
   *
   * @param {Action} action
   * @param {string[]} ids
   * @param {boolean} [batch]
   */
  command(action, ids, batch = false) {
    const requestId = `${this.viewId}-${++this.seq}`;
    this.pending.set(requestId, { action, ids, batch });
    this.model.send({ kind: "command", request_id: requestId, action, ids });
    this.renderPending();
  }

  /** @param {unknown} msg */
  onMessage(msg) {
    if (!isResult(msg)) return;
    const request = this.pending.get(msg.request_id);
    if (!request) return; // another view's request, or a late duplicate
    this.pending.delete(msg.request_id);
    this.renderPending();
    const summary = summarizeResult(request.action, msg);
    if (summary) this.toast(summary.text, summary.tone);
  }

  renderPending() {
    const busy = this.pendingIds();
    for (const [id, row] of this.rows) row.setPending(busy.has(id));
    const actions = new Set([...this.pending.values()].map((r) => (r.batch ? "batch" : r.action)));
    const refreshing = actions.has("refresh");
    this.ui.refresh.disabled = refreshing;
    setAttr(this.ui.refresh, "aria-busy", refreshing ? "true" : null);
    setText(this.ui.refresh, refreshing ? "↻ Refreshing…" : "↻ Refresh");
    this.ui.selectMatching.disabled = actions.has("select_matching");
    this.batchBusy = actions.has("batch");
    this.renderBatch();
  }

  /**
   * Show a dismissable message.
   *
   * @param {string} text
   * @param {Tone} tone
   */
  toast(text, tone) {
    if (this.destroyed) return;
    const item = h(
      "div",
      { class: "jw-toast", "data-tone": tone, role: tone === "error" ? "alert" : "status" },
      [
        h("span", { class: "jw-toast-text", text }),
        h("button", {
          type: "button",
          class: "jw-toast-close",
          "aria-label": "Dismiss",
          text: "×",
        }),
      ],
    );
    this.ui.toasts.append(item);
    while (this.ui.toasts.children.length > MAX_TOASTS) this.ui.toasts.firstElementChild?.remove();
    if (tone === "success") this.later(() => item.remove(), TOAST_MS);
  }

  /** @param {string} id */
  copyId(id) {
    const clipboard = globalThis.navigator?.clipboard;
    if (!clipboard?.writeText) {
      this.toast(`Clipboard unavailable; the job id is ${id}`, "warning");
      return;
    }
    clipboard.writeText(id).then(
      () => this.toast(`Copied job id ${shortId(id)}…`, "success"),
      () => this.toast(`Could not copy; the job id is ${id}`, "warning"),
    );
  }

  /**
   * Ask before a destructive action, or run it at once when it is safe.
   *
   * @param {string} id
   * @param {JobAction} action
   */
  rowAction(id, action) {
    if (action === "rerun") {
      this.command("rerun", [id]);
      return;
    }
    this.setConfirm({ id, action });
  }

  /** @param {{id: string | null, action: JobAction} | null} confirm */
  setConfirm(confirm) {
    const old = this.confirm;
    this.confirm = confirm;
    if (old?.id) this.rows.get(old.id)?.setConfirm(null);
    if (confirm?.id) {
      const row = this.rows.get(confirm.id);
      row?.setConfirm(confirm.action);
      row?.actions.querySelector("button")?.focus();
    }
    if (old?.id === null || confirm?.id === null) {
      this.renderBatch();
      if (confirm?.id === null) this.ui.batchActions.querySelector("button")?.focus();
    }
  }

  // ------------------------------------------------------------------ header

  renderCounters() {
    const stats = /** @type {Stats} */ ({ ...DEFAULTS.stats, ...this.get("stats") });
    const status = this.filters().status;
    for (const [key, { button, value, label }] of this.ui.counters) {
      const n =
        key === "total" ? stats.total : stats[/** @type {import("./types.js").Status} */ (key)];
      setText(value, count(n ?? 0));
      const pressed = key === "total" ? status.length === 0 : status.includes(key);
      setAttr(button, "aria-pressed", String(pressed));
      setAttr(
        button,
        "aria-label",
        `${label}: ${count(n ?? 0)}. ${key === "total" ? "Show every status" : `Show only ${key}`}`,
      );
    }
    if (this.openField === "status") this.fillMenu("status");
    const q = stats.queue;
    this.ui.queue.hidden = !q;
    if (q) {
      setText(
        this.ui.queue,
        `Queue ${q.queue_name}: ${count(q.pending_messages)} waiting · ` +
          `${count(q.in_flight_messages)} in flight · concurrency ${count(q.concurrency)}`,
      );
    }
  }

  /** @param {string} key  "total" or a status */
  clickCounter(key) {
    const filters = this.filters();
    const only = filters.status.length === 1 && filters.status[0] === key;
    this.setFilters({ ...filters, status: key === "total" || only ? [] : [key] });
  }

  onConnection() {
    this.connectionAt = Date.now();
    this.renderConnection();
    this.renderEmpty();
  }

  renderConnection(now = Date.now()) {
    const conn = /** @type {Connection} */ ({ ...DEFAULTS.connection, ...this.get("connection") });
    const badge = connectionBadge(conn, this.connectionAt, now);
    setAttr(this.ui.conn, "data-state", conn.state);
    setAttr(this.ui.conn, "data-stale", badge.stale ? "true" : null);
    setAttr(this.ui.conn, "title", badge.title);
    setText(this.ui.connText, badge.text);
    this.ui.alert.hidden = conn.state !== "error";
    if (conn.state === "error") {
      // The client stops on a refused token (retrying would only be refused again).
      const error = conn.last_error || "The connection failed";
      const stop = /[.!?]$/.test(error) ? "" : ".";
      setText(
        this.ui.alertText,
        `${error}${stop} The widget stopped: check the server URL and token, ` +
          "then create the widget again.",
      );
    }
  }

  renderTruncated() {
    const n = this.get("truncated");
    this.ui.truncated.hidden = !(n > 0);
    setText(
      this.ui.truncated,
      n > 0
        ? `${plural(n, "older job")} dropped from the local mirror to stay within its size ` +
            "bound; raise max_jobs to keep more."
        : "",
    );
  }

  // ------------------------------------------------------------------ filters

  /**
   * Set the filters and go back to the first page, in one message.
   *
   * @param {Filters} filters
   */
  setFilters(filters) {
    this.save(this.get("page") === 0 ? { filters } : { filters, page: 0 });
  }

  onFilters() {
    this.renderFilters();
    this.renderCounters();
    this.renderEmpty();
  }

  /** @param {FilterField} field @returns {string[]} */
  options(field) {
    const known =
      field === "status" ? [...STATUSES] : this.get(field === "source" ? "sources" : "entities");
    const chosen = this.filters()[field];
    return [...known, ...chosen.filter((v) => !known.includes(v))];
  }

  renderFilters() {
    const filters = this.filters();
    let any = false;
    for (const [field, { chip, menu }] of this.ui.chips) {
      const values = filters[field];
      any ||= values.length > 0;
      const shown =
        values.length === 0
          ? "any"
          : values.length <= 2
            ? values.join(", ")
            : `${values.length} selected`;
      setText(chip, `${FIELD_LABELS[field]}: ${shown} ▾`);
      chip.classList.toggle("jw-active", values.length > 0);
      setAttr(
        chip,
        "aria-label",
        `${FIELD_LABELS[field]} filter: ${values.length ? values.join(", ") : "any"}`,
      );
      if (!menu.hidden) this.fillMenu(field);
    }
    this.ui.clearFilters.hidden = !any;
  }

  /** @param {FilterField} field */
  fillMenu(field) {
    const menu = this.ui.chips.get(field)?.menu;
    if (!menu) return;
    const options = this.options(field);
    const key = options.join("\n");
    if (this.menuKeys.get(field) !== key) {
      // Rebuild only when the values changed; otherwise patch, keeping focus and scroll.
      this.menuKeys.set(field, key);
      const items = options.map((value) =>
        h("label", { class: "jw-option" }, [
          h("input", { type: "checkbox", value, "data-field": field }),
          h("span", { class: "jw-option-text" }),
        ]),
      );
      menu.replaceChildren(
        ...(items.length
          ? items
          : [h("p", { class: "jw-menu-none", text: `No ${field} values yet` })]),
        h("button", { type: "button", class: "jw-menu-clear", "data-field": field, text: "Clear" }),
      );
    }
    const chosen = new Set(this.filters()[field]);
    const stats = /** @type {Stats} */ ({ ...DEFAULTS.stats, ...this.get("stats") });
    for (const input of menu.querySelectorAll("input")) {
      input.checked = chosen.has(input.value);
      const status = /** @type {import("./types.js").Status} */ (input.value);
      const text = field === "status" ? `${status} (${count(stats[status] ?? 0)})` : input.value;
      const label = input.nextElementSibling;
      if (label) setText(label, text);
    }
  }

  /** @param {FilterField | null} field  the menu to open, or null to close */
  openMenu(field) {
    for (const [f, { chip, menu }] of this.ui.chips) {
      const open = f === field;
      menu.hidden = !open;
      setAttr(chip, "aria-expanded", String(open));
    }
    this.openField = field;
    if (field) {
      this.fillMenu(field);
      this.ui.chips.get(field)?.menu.querySelector("input")?.focus();
    }
  }

  /**
   * A filter checkbox changed.
   *
   * @param {FilterField} field
   * @param {string} value
   * @param {boolean} on
   */
  toggleFilter(field, value, on) {
    const filters = this.filters();
    const values = filters[field].filter((v) => v !== value);
    if (on) values.push(value);
    this.setFilters({ ...filters, [field]: values });
  }

  /** Close whatever is transient (menu, confirmation). @returns {boolean} whether anything was */
  closeTransient() {
    const any = this.openField !== null || this.confirm !== null;
    if (this.openField !== null) {
      const chip = this.ui.chips.get(this.openField)?.chip;
      this.openMenu(null);
      chip?.focus();
    }
    if (this.confirm !== null) this.setConfirm(null);
    return any;
  }

  // ------------------------------------------------------------------ batch, paging, sort

  renderBatch() {
    const selected = this.get("selected_ids");
    const n = selected.length;
    this.ui.batch.hidden = n === 0;
    if (n === 0 && this.confirm?.id === null) this.confirm = null;
    setText(this.ui.batchCount, `${count(n)} selected`);
    const total = this.get("total");
    this.ui.selectMatching.hidden = !(total > n);
    setText(this.ui.selectMatching, `Select all ${count(total)} matching`);
    const key = `${this.confirm?.id === null ? this.confirm.action : ""}|${n}|${this.batchBusy}`;
    if (key === this.batchKey) return;
    this.batchKey = key;
    if (this.confirm?.id === null) {
      const [label, verb] = BATCH_LABELS[this.confirm.action];
      this.ui.batchActions.replaceChildren(
        h("span", { class: "jw-confirm-text", text: `${label} ${plural(n, "job")}?` }),
        h("button", {
          type: "button",
          class: "jw-confirm-yes",
          "data-confirm": this.confirm.action,
          "aria-label": `Yes, ${verb} ${plural(n, "selected job")}`,
          text: "Yes",
        }),
        h("button", { type: "button", class: "jw-confirm-no", "aria-label": "No", text: "No" }),
      );
      return;
    }
    this.ui.batchActions.replaceChildren(
      .../** @type {JobAction[]} */ (["cancel", "rerun", "delete"]).map((action) =>
        h("button", {
          type: "button",
          class: "jw-action",
          "data-batch": action,
          "aria-label": `${BATCH_LABELS[action][0]} ${plural(n, "selected job")}`,
          disabled: this.batchBusy,
          text: BATCH_LABELS[action][0],
        }),
      ),
    );
  }

  renderPaging() {
    this.renderBatch();
    this.renderEmpty();
    const total = Math.max(0, this.get("total"));
    const size = Math.max(1, this.get("page_size"));
    const page = Math.max(0, this.get("page"));
    const pageCount = Math.max(1, Math.ceil(total / size));
    const shown = this.order.length;
    const key = `${total}|${size}|${page}|${shown}`;
    if (key === this.pagerKey) return;
    this.pagerKey = key;
    setText(
      this.ui.range,
      shown === 0
        ? `0 of ${count(total)}`
        : `${count(page * size + 1)}–${count(page * size + shown)} of ${count(total)}`,
    );
    const prev = h("button", {
      type: "button",
      class: "jw-prev",
      "data-page": page - 1,
      "aria-label": "Previous page",
      disabled: page === 0,
      text: "‹",
    });
    const next = h("button", {
      type: "button",
      class: "jw-next",
      "data-page": page + 1,
      "aria-label": "Next page",
      disabled: page >= pageCount - 1,
      text: "›",
    });
    const numbers = pageItems(Math.min(page, pageCount - 1), pageCount).map((item) =>
      item === "…"
        ? h("span", { class: "jw-ellipsis", "aria-hidden": "true", text: "…" })
        : h("button", {
            type: "button",
            class: "jw-page",
            "data-page": item,
            "aria-label": `Page ${item + 1}`,
            "aria-current": item === page ? "page" : null,
            text: String(item + 1),
          }),
    );
    const active = this.ui.root.ownerDocument.activeElement;
    const refocus = active instanceof HTMLElement && this.ui.pages.contains(active);
    this.ui.pages.replaceChildren(prev, ...numbers, next);
    if (refocus) {
      // Keep keyboard focus on the pager across the rebuild: same arrow, or the current page.
      const arrow = active.classList.contains("jw-prev")
        ? prev
        : active.classList.contains("jw-next")
          ? next
          : null;
      const target =
        arrow && !arrow.disabled ? arrow : this.ui.pages.querySelector('[aria-current="page"]');
      if (target instanceof HTMLElement) target.focus();
    }
    const sizes = [...new Set([...PAGE_SIZES, size])].sort((a, b) => a - b);
    if ([...this.ui.pageSize.options].map((o) => o.value).join() !== sizes.join()) {
      this.ui.pageSize.replaceChildren(
        ...sizes.map((s) => h("option", { value: s, text: String(s) })),
      );
    }
    this.ui.pageSize.value = String(size);
  }

  renderEmpty() {
    const hasRows = this.order.length > 0;
    this.ui.table.hidden = !hasRows;
    this.ui.empty.hidden = hasRows;
    if (hasRows) return;
    const conn = /** @type {Connection} */ ({ ...DEFAULTS.connection, ...this.get("connection") });
    const filtered = FIELDS.some((f) => this.filters()[f].length > 0);
    /** @type {[string, string, HTMLButtonElement | null]} */
    let content;
    if (conn.state === "error") {
      content = ["error", "No jobs loaded: the job server could not be reached.", null];
    } else if (filtered) {
      content = [
        "filtered",
        "No jobs match these filters",
        h("button", { type: "button", class: "jw-empty-clear", text: "Clear filters" }),
      ];
    } else if (this.get("total") > 0) {
      content = [
        "page",
        "Nothing on this page",
        h("button", {
          type: "button",
          class: "jw-page",
          "data-page": 0,
          text: "Go to the first page",
        }),
      ];
    } else if (conn.state === "connecting" && !conn.last_message_at) {
      content = ["loading", "Connecting to the job server…", null];
    } else {
      content = ["none", "No jobs yet — create one or check the server URL", null];
    }
    const [kind, text, button] = content;
    if (this.ui.empty.dataset.kind === kind) return;
    this.ui.empty.dataset.kind = kind;
    this.ui.empty.replaceChildren(
      h("p", { class: "jw-empty-text", text }),
      ...(button ? [button] : []),
    );
  }

  renderSort() {
    const sort = { ...DEFAULTS.sort, ...this.get("sort") };
    for (const [key, th] of this.ui.sortHeads) {
      const on = sort.by === key;
      setAttr(th, "aria-sort", on ? (sort.descending ? "descending" : "ascending") : null);
      const mark = th.querySelector(".jw-sort-mark");
      if (mark) setText(mark, on ? (sort.descending ? " ▼" : " ▲") : "");
    }
  }

  /** @param {SortKey} key */
  clickSort(key) {
    const sort = { ...DEFAULTS.sort, ...this.get("sort") };
    const descending = sort.by === key ? !sort.descending : key !== "name" && key !== "status";
    this.save({ sort: { by: key, descending } });
  }

  // ------------------------------------------------------------------ DOM events

  /** @param {MouseEvent} event */
  onClick = (event) => {
    const root = this.ui.root;
    /** @param {string} selector */
    const at = (selector) => closest(event, selector, root);
    let hit;
    if (this.openField !== null && !at(".jw-filter")) this.openMenu(null);

    if ((hit = at(".jw-toast-close"))) {
      hit.closest(".jw-toast")?.remove();
    } else if ((hit = at(".jw-counter"))) {
      this.clickCounter(hit.dataset.status ?? "total");
    } else if (at(".jw-refresh")) {
      this.command("refresh", []);
    } else if ((hit = at(".jw-chip"))) {
      const field = /** @type {FilterField} */ (hit.dataset.field);
      this.openMenu(this.openField === field ? null : field);
    } else if ((hit = at(".jw-menu-clear"))) {
      this.setFilters({ ...this.filters(), [/** @type {FilterField} */ (hit.dataset.field)]: [] });
    } else if (at(".jw-clear-filters") || at(".jw-empty-clear")) {
      this.setFilters({ status: [], source: [], entity: [] });
    } else if (at(".jw-select-matching")) {
      this.command("select_matching", []);
    } else if (at(".jw-clear-selection")) {
      this.save({ selected_ids: [] });
    } else if ((hit = at("button[data-batch]"))) {
      this.setConfirm({ id: null, action: /** @type {JobAction} */ (hit.dataset.batch) });
    } else if (at(".jw-batch .jw-confirm-yes") && this.confirm?.id === null) {
      const { action } = this.confirm;
      this.setConfirm(null);
      this.command(action, [...this.get("selected_ids")], true);
    } else if (at(".jw-batch .jw-confirm-no")) {
      this.setConfirm(null);
    } else if ((hit = at(".jw-select-page"))) {
      this.selectIds(this.order, /** @type {HTMLInputElement} */ (hit).checked);
    } else if ((hit = at("button[data-sort]"))) {
      this.clickSort(/** @type {SortKey} */ (hit.dataset.sort));
    } else if ((hit = at("button[data-page]"))) {
      const page = Number(hit.dataset.page);
      if (Number.isInteger(page) && page >= 0 && page !== this.get("page")) this.save({ page });
    } else if ((hit = at("tr.jw-row"))) {
      this.clickRow(event, hit.dataset.id ?? "");
    }
  };

  /**
   * @param {MouseEvent} event
   * @param {string} id
   */
  clickRow(event, id) {
    const root = this.ui.root;
    /** @param {string} selector */
    const at = (selector) => closest(event, selector, root);
    let hit;
    this.moveCursorTo(id);
    if ((hit = at("input.jw-select"))) {
      this.clickSelect(id, /** @type {HTMLInputElement} */ (hit).checked, event.shiftKey);
    } else if (at(".jw-id")) {
      this.copyId(id);
    } else if (at(".jw-error")) {
      this.rows.get(id)?.toggleError();
    } else if ((hit = at("button[data-action]"))) {
      this.rowAction(id, /** @type {JobAction} */ (hit.dataset.action));
    } else if (at(".jw-confirm-yes") && this.confirm?.id === id) {
      const { action } = this.confirm;
      this.setConfirm(null);
      this.command(action, [id]);
    } else if (at(".jw-confirm-no")) {
      this.setConfirm(null);
    }
  }

  /** @param {Event} event */
  onChange = (event) => {
    const target = event.target;
    if (target === this.ui.pageSize) {
      this.save({ page_size: Number(this.ui.pageSize.value), page: 0 });
    } else if (target instanceof HTMLInputElement && target.closest(".jw-menu")) {
      this.toggleFilter(
        /** @type {FilterField} */ (target.dataset.field),
        target.value,
        target.checked,
      );
    }
  };

  /** @param {FocusEvent} event */
  onFocusOut = (event) => {
    if (this.openField === null) return;
    const wrap = this.ui.chips.get(this.openField)?.wrap;
    const to = event.relatedTarget;
    if (to instanceof Node && wrap && !wrap.contains(to)) this.openMenu(null);
  };

  /** @param {KeyboardEvent} event */
  onKeyDown = (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (event.key === "Escape") {
      if (this.closeTransient()) {
        event.preventDefault();
        event.stopPropagation();
      }
      return;
    }
    if (!target || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement)
      return;
    if (target instanceof HTMLInputElement && target.type !== "checkbox") return;
    if (target.closest(".jw-menu")) return;
    const error = target.closest(".jw-error");
    if (error && (event.key === "Enter" || event.key === " ")) {
      const id = /** @type {HTMLElement | null} */ (error.closest("tr.jw-row"))?.dataset.id;
      if (id) this.rows.get(id)?.toggleError();
      event.preventDefault();
      return;
    }
    let handled = true;
    switch (event.key) {
      case "j":
        this.moveCursor(1);
        break;
      case "k":
        this.moveCursor(-1);
        break;
      case "x":
        if (this.cursorId !== null) {
          this.clickSelect(this.cursorId, !this.get("selected_ids").includes(this.cursorId), false);
        }
        break;
      case "Enter":
        // Buttons and checkboxes keep their own Enter.
        if (target !== this.ui.root && !target.matches("tr.jw-row")) return;
        if (this.cursorId !== null) this.toggleExpanded(this.cursorId);
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };
}

/**
 * Model-wide wiring. Each view owns its own listeners, so there is nothing to share yet.
 *
 * @param {{model: Model}} _context
 * @returns {() => void}  cleanup
 */
export function initialize(_context) {
  return () => {};
}

/**
 * Render one view of the widget into `el`.
 *
 * @param {{model: Model, el: HTMLElement}} context
 * @returns {() => void}  cleanup: removes every listener, timer and element of this view
 */
export function render({ model, el }) {
  const view = new JobQueueView(model, el);
  return () => view.destroy();
}

export default { initialize, render };
