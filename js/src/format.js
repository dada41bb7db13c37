/** Pure formatting helpers of the view: times, durations, counts, pages, result summaries. */

/** @typedef {import("./types.js").Action} Action */
/** @typedef {import("./types.js").Connection} Connection */
/** @typedef {import("./types.js").Result} Result */

/** Seconds without a message before a live connection is shown as stale. */
export const STALE_AFTER_S = 60;

/**
 * The short form of a job id shown in the table.
 *
 * @param {string} id
 * @returns {string}
 */
export function shortId(id) {
  return id.slice(0, 8);
}

/**
 * Parse an ISO 8601 time to epoch milliseconds.
 *
 * @param {string | null | undefined} iso
 * @returns {number | null}  null when missing or unparseable
 */
export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A relative time such as "3 min ago".
 *
 * @param {number} ms  the time, epoch milliseconds
 * @param {number} now  the current time, epoch milliseconds
 * @returns {string}
 */
export function relativeTime(ms, now) {
  const s = Math.floor((now - ms) / 1000);
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.floor(h / 24);
  return d === 1 ? "yesterday" : `${d} days ago`;
}

/**
 * The exact local date and time, for titles.
 *
 * @param {number} ms
 * @returns {string}
 */
export function exactTime(ms) {
  return new Date(ms).toLocaleString();
}

/**
 * The local wall-clock time as hh:mm:ss.
 *
 * @param {number} ms
 * @returns {string}
 */
export function clockTime(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/**
 * A human duration such as "45s", "1m 05s", "2h 03m" or "1d 04h".
 *
 * @param {number | null} seconds
 * @returns {string}  "" when unknown
 */
export function humanDuration(seconds) {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.floor(seconds);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

/**
 * A count with thousands separators.
 *
 * @param {number} n
 * @returns {string}
 */
export function count(n) {
  return Number.isFinite(n) ? n.toLocaleString("en-US") : "0";
}

/**
 * "1 job" / "3 jobs".
 *
 * @param {number} n
 * @param {string} noun  singular
 * @returns {string}
 */
export function plural(n, noun) {
  return `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * The page buttons to show: page indexes (0-based) with "…" for the gaps.
 *
 * @param {number} page  the current page, 0-based
 * @param {number} pageCount  at least 1
 * @returns {(number | "…")[]}
 */
export function pageItems(page, pageCount) {
  if (pageCount <= 7) return Array.from({ length: pageCount }, (_, i) => i);
  const last = pageCount - 1;
  const lo = Math.max(1, Math.min(page - 1, last - 4));
  const hi = Math.min(last - 1, Math.max(page + 1, 4));
  /** @type {(number | "…")[]} */
  const items = [0];
  if (lo > 1) items.push("…");
  for (let i = lo; i <= hi; i++) items.push(i);
  if (hi < last - 1) items.push("…");
  items.push(last);
  return items;
}

/**
 * @typedef {object} Badge
 * @property {string} text  what the badge says
 * @property {string} title  the longer explanation for its tooltip
 * @property {boolean} stale  live but silent for longer than STALE_AFTER_S
 */

/**
 * What the connection badge says.
 *
 * @param {Connection} conn
 * @param {number} receivedAt  when the view received `conn` (epoch ms): retry_in counts from it
 * @param {number} now  epoch ms
 * @returns {Badge}
 */
export function connectionBadge(conn, receivedAt, now) {
  const last = parseTime(conn.last_message_at);
  const lastText = last === null ? "no message yet" : `last message ${exactTime(last)}`;
  const retry =
    conn.retry_in === null || conn.retry_in === undefined
      ? null
      : Math.max(0, Math.ceil(conn.retry_in - (now - receivedAt) / 1000));
  const attempts = conn.reconnect_attempts
    ? `; ${plural(conn.reconnect_attempts, "reconnect attempt")}`
    : "";
  const title = `${lastText}${attempts}`;
  switch (conn.state) {
    case "live":
      if (last !== null && now - last > STALE_AFTER_S * 1000) {
        return { text: `Stale since ${clockTime(last)}`, title, stale: true };
      }
      return { text: "Live", title, stale: false };
    case "polling":
      return {
        text: "Polling",
        title: `WebSocket unavailable, polling REST; ${title}`,
        stale: false,
      };
    case "connecting":
      if (retry === null) return { text: "Connecting…", title, stale: false };
      return {
        text: retry > 0 ? `Reconnecting in ${retry}s` : "Reconnecting…",
        title: conn.last_error ? `${conn.last_error}; ${title}` : title,
        stale: false,
      };
    case "error":
      return {
        text: `Error: ${conn.last_error || "connection failed"}`,
        title: conn.last_error ? `${conn.last_error}; ${title}` : title,
        stale: false,
      };
    default:
      return { text: "Closed", title, stale: false };
  }
}

/** @type {Record<Action, [string, string]>} */
const VERBS = {
  cancel: ["Cancel", "cancelled"],
  rerun: ["Rerun", "queued again"],
  delete: ["Delete", "deleted"],
  refresh: ["Refresh", "refreshed"],
  select_matching: ["Select all", "selected"],
};

/**
 * @typedef {"success" | "warning" | "error"} Tone
 * @typedef {{text: string, tone: Tone}} Summary
 */

/**
 * Summarise the kernel's answer to a command for a toast, e.g. "3 cancelled, 1 failed: <reason>".
 *
 * `ok` is false both when the request failed (`error` says why) and when some jobs failed
 * (`results` says which); the per-job outcomes are summarised whenever there are some.
 *
 * @param {Action} action
 * @param {Result} result
 * @returns {Summary | null}  null when a success needs no words (select_matching)
 */
export function summarizeResult(action, result) {
  const [name, done] = VERBS[action];
  const outcomes = Object.values(result.results ?? {});
  // A request-level error, or a failure without per-job outcomes to explain it.
  if (result.error || (!result.ok && outcomes.length === 0)) {
    return { text: `${name} failed: ${result.error || "unknown error"}`, tone: "error" };
  }
  if (action === "select_matching") return null;
  if (action === "refresh") return { text: "Refreshed from the server", tone: "success" };
  const failures = outcomes.filter((o) => typeof o === "string");
  const succeeded = outcomes.length - failures.length;
  if (outcomes.length === 0) return { text: `Nothing to ${name.toLowerCase()}`, tone: "warning" };
  /** @type {Map<string, number>} */
  const reasons = new Map();
  for (const f of failures) reasons.set(f, (reasons.get(f) ?? 0) + 1);
  const why = [...reasons]
    .map(([reason, n]) => (reasons.size > 1 ? `${reason} (${n})` : reason))
    .join("; ");
  const parts = [];
  if (succeeded > 0) parts.push(`${count(succeeded)} ${done}`);
  if (failures.length > 0) parts.push(`${count(failures.length)} failed: ${why}`);
  const tone = failures.length === 0 ? "success" : succeeded === 0 ? "error" : "warning";
  return { text: parts.join(", "), tone };
}
