/** The static DOM of one view: built once, then patched by the view as traits change. */

import { h } from "./dom.js";
import { STATUSES } from "./types.js";

/** @typedef {import("./types.js").FilterField} FilterField */
/** @typedef {import("./types.js").SortKey} SortKey */

/** @type {Record<FilterField, string>} */
export const FIELD_LABELS = { status: "Status", source: "Source", entity: "Entity" };
export const FIELDS = /** @type {FilterField[]} */ (["status", "source", "entity"]);

/** @type {[SortKey | null, string][]} */
const HEADINGS = [
  [null, "ID"],
  ["name", "Name"],
  [null, "Source / entity"],
  ["status", "Status"],
  ["percentage", "Progress"],
  [null, "Results"],
  ["created_at", "Created"],
  ["duration", "Duration"],
  [null, "Error"],
  [null, "Actions"],
];

/**
 * @typedef {object} Counter
 * @property {HTMLButtonElement} button
 * @property {HTMLSpanElement} value
 * @property {string} label
 *
 * @typedef {object} FilterMenu
 * @property {HTMLButtonElement} chip
 * @property {HTMLDivElement} menu
 * @property {HTMLSpanElement} wrap
 */

/** @typedef {ReturnType<typeof buildSkeleton>} Skeleton */

/** Build the view's elements (not yet attached to the page). */
export function buildSkeleton() {
  /** @type {Map<string, Counter>} */
  const counters = new Map(
    ["total", ...STATUSES].map((key) => {
      const value = h("span", { class: "jw-count", text: "0" });
      const label = key === "total" ? "Total" : key[0].toUpperCase() + key.slice(1);
      const button = h(
        "button",
        { type: "button", class: "jw-counter", "data-status": key, "aria-pressed": "false" },
        [value, h("span", { class: "jw-counter-label", text: label })],
      );
      return [key, { button, value, label }];
    }),
  );
  const connText = h("span", { class: "jw-conn-text" });
  const conn = h("span", { class: "jw-conn", role: "status", "aria-live": "polite" }, [
    h("span", { class: "jw-conn-dot", "aria-hidden": "true" }),
    connText,
  ]);
  const refresh = h("button", {
    type: "button",
    class: "jw-refresh",
    "aria-label": "Refresh from the server",
    title: "List every job again from the server",
    text: "↻ Refresh",
  });
  const queue = h("div", { class: "jw-queue", hidden: true });
  const alertText = h("span", { class: "jw-alert-text" });
  const alert = h("div", { class: "jw-alert", role: "alert", hidden: true }, [
    h("strong", { text: "Can't reach the job server. " }),
    alertText,
  ]);
  const truncated = h("div", { class: "jw-truncated", role: "status", hidden: true });

  /** @type {Map<FilterField, FilterMenu>} */
  const chips = new Map();
  const filterBar = h("div", { class: "jw-filters", role: "group", "aria-label": "Filters" });
  for (const field of FIELDS) {
    const chip = h("button", {
      type: "button",
      class: "jw-chip",
      "data-field": field,
      "aria-haspopup": "true",
      "aria-expanded": "false",
    });
    const menu = h("div", {
      class: "jw-menu",
      "data-field": field,
      role: "group",
      "aria-label": `${FIELD_LABELS[field]} filter`,
      tabindex: "-1",
      hidden: true,
    });
    const wrap = h("span", { class: "jw-filter" }, [chip, menu]);
    filterBar.append(wrap);
    chips.set(field, { chip, menu, wrap });
  }
  const clearFilters = h("button", {
    type: "button",
    class: "jw-clear-filters",
    hidden: true,
    text: "Clear filters",
  });
  filterBar.append(clearFilters);

  const batchCount = h("span", { class: "jw-batch-count" });
  const selectMatching = h("button", { type: "button", class: "jw-select-matching" });
  const batchActions = h("span", { class: "jw-batch-actions" });
  const batch = h(
    "div",
    { class: "jw-batch", role: "region", "aria-label": "Selection", hidden: true },
    [
      batchCount,
      selectMatching,
      h("button", { type: "button", class: "jw-clear-selection", text: "Clear selection" }),
      batchActions,
    ],
  );

  const selectPage = h("input", {
    type: "checkbox",
    class: "jw-select-page",
    "aria-label": "Select every job on this page",
  });
  /** @type {Map<SortKey, HTMLTableCellElement>} */
  const sortHeads = new Map();
  const headRow = h("tr", {}, [h("th", { class: "jw-cell-select" }, [selectPage])]);
  for (const [key, label] of HEADINGS) {
    if (key === null) {
      headRow.append(h("th", { scope: "col", text: label }));
      continue;
    }
    const th = h("th", { scope: "col" }, [
      h("button", { type: "button", class: "jw-sort", "data-sort": key }, [
        label,
        h("span", { class: "jw-sort-mark", "aria-hidden": "true" }),
      ]),
    ]);
    sortHeads.set(key, th);
    headRow.append(th);
  }
  const tbody = h("tbody");
  const table = h("div", { class: "jw-table-wrap" }, [
    h("table", { class: "jw-table", "aria-label": "Jobs" }, [h("thead", {}, [headRow]), tbody]),
  ]);
  const empty = h("div", { class: "jw-empty", hidden: true });

  const range = h("span", { class: "jw-range" });
  const pages = h("span", { class: "jw-pages" });
  const pageSize = h("select", { class: "jw-page-size", "aria-label": "Rows per page" });
  const pager = h("nav", { class: "jw-pager", "aria-label": "Pages" }, [
    range,
    pages,
    h("label", { class: "jw-size" }, ["Rows ", pageSize]),
  ]);
  const toasts = h("div", { class: "jw-toasts", "aria-live": "polite" });

  const root = h(
    "div",
    {
      class: "jobwidget",
      tabindex: "0",
      role: "region",
      "aria-label": "Job queue",
      "aria-keyshortcuts": "j k x Enter Escape",
      "data-lm-suppress-shortcuts": "true",
    },
    [
      h("div", { class: "jw-header" }, [
        h(
          "div",
          { class: "jw-counters", role: "group", "aria-label": "Jobs by status" },
          [...counters.values()].map((c) => c.button),
        ),
        h("div", { class: "jw-header-end" }, [conn, refresh]),
      ]),
      queue,
      alert,
      truncated,
      h("div", { class: "jw-toolbar" }, [filterBar]),
      batch,
      table,
      empty,
      h("div", { class: "jw-footer" }, [
        h("span", { class: "jw-keys", text: "j/k move · x select · Enter details · Esc close" }),
        pager,
      ]),
      toasts,
    ],
  );
  return {
    counters,
    connText,
    conn,
    refresh,
    queue,
    alertText,
    alert,
    truncated,
    chips,
    clearFilters,
    batchCount,
    selectMatching,
    batchActions,
    batch,
    selectPage,
    sortHeads,
    tbody,
    table,
    empty,
    range,
    pages,
    pageSize,
    pager,
    toasts,
    root,
  };
}
