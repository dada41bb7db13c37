/** Types of the model contract between JobQueueWidget (kernel) and this view. */

/**
 * @typedef {"pending" | "running" | "completed" | "failed" | "cancelled"} Status
 *
 * @typedef {object} Job  One row of the visible page, as the kernel sends it.
 * @property {string} id
 * @property {string} name
 * @property {Status} status
 * @property {string} source_type
 * @property {string} entity_type
 * @property {number} total_urls
 * @property {number} completed_urls
 * @property {number} failed_urls
 * @property {number} pending_urls
 * @property {number} percentage  0-100
 * @property {string | null} current_url
 * @property {number} result_count
 * @property {number} failed_count
 * @property {string | null} error
 * @property {string | null} created_at  ISO 8601 UTC
 * @property {string | null} started_at
 * @property {string | null} completed_at
 * @property {number | null} duration  seconds
 *
 * @typedef {object} QueueStats
 * @property {number} total_messages
 * @property {number} pending_messages
 * @property {number} in_flight_messages
 * @property {number} concurrency
 * @property {string} queue_name
 *
 * @typedef {object} Stats
 * @property {number} total
 * @property {number} pending
 * @property {number} running
 * @property {number} completed
 * @property {number} failed
 * @property {number} cancelled
 * @property {QueueStats | null} queue
 *
 * @typedef {"connecting" | "live" | "polling" | "error" | "closed"} ConnectionState
 *
 * @typedef {object} Connection
 * @property {ConnectionState} state
 * @property {string | null} last_message_at
 * @property {string | null} last_error
 * @property {number | null} retry_in  seconds until the next connection attempt
 * @property {number} reconnect_attempts
 *
 * @typedef {"status" | "source" | "entity"} FilterField
 * @typedef {Record<FilterField, string[]>} Filters
 *
 * @typedef {"created_at" | "name" | "status" | "percentage" | "duration"} SortKey
 * @typedef {{by: SortKey, descending: boolean}} Sort
 *
 * @typedef {object} Traits  Every trait the view reads or writes.
 * @property {Job[]} jobs
 * @property {Stats} stats
 * @property {Connection} connection
 * @property {number} total
 * @property {string[]} sources
 * @property {string[]} entities
 * @property {number} truncated
 * @property {Filters} filters
 * @property {Sort} sort
 * @property {number} page
 * @property {number} page_size
 * @property {string[]} selected_ids
 *
 * @typedef {"cancel" | "rerun" | "delete" | "refresh" | "select_matching"} Action
 * @typedef {"cancel" | "rerun" | "delete"} JobAction
 *
 * @typedef {object} Command  A custom message from the view to the kernel.
 * @property {"command"} kind
 * @property {string} request_id
 * @property {Action} action
 * @property {string[]} ids
 *
 * @typedef {object} Result  The kernel's answer to one Command.
 * @property {"result"} kind
 * @property {string} request_id
 * @property {boolean} ok
 * @property {string | null} error
 * @property {Record<string, string | null>} results  job id -> null (done) or the error text
 *
 * @typedef {(...args: never[]) => void} Handler
 *
 * @typedef {object} Model  The part of anywidget's model interface this view uses.
 * @property {<K extends keyof Traits>(name: K) => Traits[K]} get
 * @property {<K extends keyof Traits>(name: K, value: Traits[K]) => void} set
 * @property {() => void} save_changes
 * @property {(event: string, callback: Handler) => void} on
 * @property {(event: string, callback: Handler) => void} off
 * @property {(content: Command) => void} send
 */

/**
 * Every trait's value until the kernel sends one, so a view never breaks on a missing trait.
 *
 * @type {Readonly<Traits>}
 */
export const DEFAULTS = {
  jobs: [],
  stats: { total: 0, pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0, queue: null },
  connection: {
    state: "connecting",
    last_message_at: null,
    last_error: null,
    retry_in: null,
    reconnect_attempts: 0,
  },
  total: 0,
  sources: [],
  entities: [],
  truncated: 0,
  filters: { status: [], source: [], entity: [] },
  sort: { by: "created_at", descending: true },
  page: 0,
  page_size: 50,
  selected_ids: [],
};

export const STATUSES = /** @type {const} */ ([
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
]);

export const PAGE_SIZES = /** @type {const} */ ([10, 25, 50, 100, 250]);

/**
 * Whether a job in this status can still be cancelled (otherwise it can be rerun or deleted).
 *
 * @param {Status} status
 * @returns {boolean}
 */
export function isActive(status) {
  return status === "pending" || status === "running";
}

/**
 * Narrow a custom message from the kernel to a command result.
 *
 * @param {unknown} msg
 * @returns {msg is Result}
 */
export function isResult(msg) {
  if (typeof msg !== "object" || msg === null) return false;
  const m = /** @type {Record<string, unknown>} */ (msg);
  return m.kind === "result" && typeof m.request_id === "string" && typeof m.ok === "boolean";
}
