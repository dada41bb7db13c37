/** Test helpers: a fake anywidget model that counts its handlers, job factories, DOM queries. */

import { DEFAULTS } from "../src/types.js";
import widget from "../src/widget.js";

/** @typedef {import("../src/types.js").Traits} Traits */
/** @typedef {import("../src/types.js").Job} Job */
/** @typedef {import("../src/types.js").Command} Command */
/** @typedef {import("../src/types.js").Handler} Handler */

/** @returns {Traits} the kernel's initial traits, with a live connection */
export function defaultTraits() {
  const traits = structuredClone(/** @type {Traits} */ (DEFAULTS));
  traits.connection = {
    ...traits.connection,
    state: "live",
    last_message_at: new Date().toISOString(),
  };
  return traits;
}

/**
 * A stand-in for anywidget's model: traits in a dict, `change:<name>` and `msg:custom` events
 * delivered synchronously to every view, sent messages recorded.
 */
export class FakeModel {
  /** @param {Partial<Traits>} [traits] */
  constructor(traits = {}) {
    /** @type {Traits} */
    this.traits = { ...defaultTraits(), ...traits };
    /** @type {Map<string, Handler[]>} */
    this.handlers = new Map();
    /** @type {Command[]} */
    this.sent = [];
    this.saves = 0;
  }

  /**
   * @template {keyof Traits} K
   * @param {K} name
   * @returns {Traits[K]}
   */
  get(name) {
    return this.traits[name];
  }

  /**
   * @template {keyof Traits} K
   * @param {K} name
   * @param {Traits[K]} value
   */
  set(name, value) {
    this.traits[name] = value;
    this.emit(`change:${name}`, value);
  }

  save_changes() {
    this.saves += 1;
  }

  /**
   * @param {string} event
   * @param {Handler} callback
   */
  on(event, callback) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), callback]);
  }

  /**
   * @param {string} event
   * @param {Handler} callback
   */
  off(event, callback) {
    this.handlers.set(
      event,
      (this.handlers.get(event) ?? []).filter((h) => h !== callback),
    );
  }

  /** @param {Command} content */
  send(content) {
    this.sent.push(content);
  }

  /**
   * Deliver an event to every registered handler.
   *
   * @param {string} event
   * @param {unknown} payload
   */
  emit(event, payload) {
    for (const handler of [...(this.handlers.get(event) ?? [])]) {
      /** @type {(arg: unknown) => void} */ (handler)(payload);
    }
  }

  /** @returns {number} handlers registered over all events */
  handlerCount() {
    let n = 0;
    for (const list of this.handlers.values()) n += list.length;
    return n;
  }

  /**
   * What the kernel does: change traits (each emits its change event).
   *
   * @param {Partial<Traits>} changes
   */
  kernel(changes) {
    for (const [name, value] of Object.entries(changes)) {
      this.set(/** @type {keyof Traits} */ (name), /** @type {never} */ (value));
    }
  }

  /**
   * The kernel's answer to the last command (or to `request_id`); `ok` is false when a job failed.
   *
   * @param {Record<string, string | null>} results
   * @param {{ok?: boolean, error?: string | null, request_id?: string}} [extra]
   */
  reply(results, extra = {}) {
    const last = this.sent[this.sent.length - 1];
    this.emit("msg:custom", {
      kind: "result",
      request_id: extra.request_id ?? last.request_id,
      ok: extra.ok ?? Object.values(results).every((r) => r === null), // as the kernel does
      error: extra.error ?? null,
      results,
    });
  }
}

let serial = 0;

/**
 * A job row as the kernel sends it.
 *
 * @param {Partial<Job>} [fields]
 * @returns {Job}
 */
export function job(fields = {}) {
  serial += 1;
  const id = fields.id ?? `${String(serial).padStart(8, "0")}-aaaa-4bbb-8ccc-dddddddddddd`;
  return {
    id,
    name: `job ${serial}`,
    status: "running",
    source_type: "confluence",
    entity_type: "spaces",
    total_urls: 10,
    completed_urls: 3,
    failed_urls: 0,
    pending_urls: 7,
    percentage: 30,
    current_url: "https://example.org/a",
    result_count: 3,
    failed_count: 0,
    error: null,
    created_at: new Date(Date.now() - 180_000).toISOString(),
    started_at: new Date(Date.now() - 120_000).toISOString(),
    completed_at: null,
    duration: null,
    ...fields,
  };
}

/**
 * @param {number} n
 * @param {Partial<Job>} [fields]
 * @returns {Job[]}
 */
export function jobs(n, fields = {}) {
  return Array.from({ length: n }, () => job(fields));
}

/**
 * Render a view into a fresh element attached to the document.
 *
 * @param {FakeModel} model
 * @returns {{el: HTMLElement, root: HTMLElement, cleanup: () => void}}
 */
export function mount(model) {
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  const root = q(el, ".jobwidget");
  return {
    el,
    root,
    cleanup: () => {
      cleanup();
      el.remove();
    },
  };
}

/**
 * The one element matching `selector` under `el`; throws when there is none.
 *
 * @template {HTMLElement} [E=HTMLElement]
 * @param {ParentNode} el
 * @param {string} selector
 * @returns {E}
 */
export function q(el, selector) {
  const found = el.querySelector(selector);
  if (!found) throw new Error(`no element matches ${selector}`);
  return /** @type {E} */ (found);
}

/**
 * All elements matching `selector` under `el`.
 *
 * @template {HTMLElement} [E=HTMLElement]
 * @param {ParentNode} el
 * @param {string} selector
 * @returns {E[]}
 */
export function qa(el, selector) {
  return /** @type {E[]} */ ([...el.querySelectorAll(selector)]);
}

/**
 * Click like a user (bubbling, cancelable; checkboxes toggle).
 *
 * @param {Element} target
 * @param {MouseEventInit} [init]
 */
export function click(target, init = {}) {
  target.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, ...init }));
}

/**
 * Press a key on `target`.
 *
 * @param {Element} target
 * @param {string} key
 */
export function press(target, key) {
  target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
}

/**
 * The row of a job.
 *
 * @param {ParentNode} el
 * @param {string} id
 * @returns {HTMLTableRowElement}
 */
export function row(el, id) {
  return q(el, `tr.jw-row[data-id="${id}"]`);
}

/**
 * The ids of the rows shown, in order.
 *
 * @param {ParentNode} el
 * @returns {string[]}
 */
export function rowIds(el) {
  return qa(el, "tr.jw-row").map((tr) => tr.dataset.id ?? "");
}

/** @type {(() => void)[]} */
const mounted = [];

/**
 * Mount a view that `cleanupViews` (run after every test) removes again.
 *
 * @param {FakeModel} model
 * @returns {{el: HTMLElement, root: HTMLElement, cleanup: () => void}}
 */
export function view(model) {
  const v = mount(model);
  mounted.push(v.cleanup);
  return v;
}

/** Clean up every view mounted with `view`. */
export function cleanupViews() {
  for (const cleanup of mounted.splice(0)) cleanup();
}
