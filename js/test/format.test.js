/** Unit tests of the pure formatting helpers. */

import { describe, expect, it } from "vitest";
import {
  connectionBadge,
  humanDuration,
  pageItems,
  relativeTime,
  shortId,
  summarizeResult,
} from "../src/format.js";

describe("humanDuration", () => {
  it.each([
    [null, ""],
    [-1, ""],
    [0, "0s"],
    [45.7, "45s"],
    [65, "1m 05s"],
    [3600 + 180, "1h 03m"],
    [86400 * 2 + 3600 * 4, "2d 04h"],
  ])("%s seconds is %j", (seconds, text) => {
    expect(humanDuration(seconds)).toBe(text);
  });
});

describe("relativeTime", () => {
  const now = Date.UTC(2025, 0, 10, 12, 0, 0);
  it.each([
    [0, "just now"],
    [-5000, "just now"],
    [30_000, "30 s ago"],
    [180_000, "3 min ago"],
    [2 * 3600_000, "2 h ago"],
    [26 * 3600_000, "yesterday"],
    [5 * 86400_000, "5 days ago"],
  ])("%s ms ago is %j", (ago, text) => {
    expect(relativeTime(now - ago, now)).toBe(text);
  });
});

describe("pageItems", () => {
  it("lists every page when there are few", () => {
    expect(pageItems(0, 1)).toEqual([0]);
    expect(pageItems(3, 7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
  it("puts an ellipsis where pages are left out", () => {
    expect(pageItems(0, 20)).toEqual([0, 1, 2, 3, 4, "…", 19]);
    expect(pageItems(10, 20)).toEqual([0, "…", 9, 10, 11, "…", 19]);
    expect(pageItems(19, 20)).toEqual([0, "…", 15, 16, 17, 18, 19]);
  });
  it("always includes the current, first and last page", () => {
    for (let pages = 1; pages < 40; pages++) {
      for (let page = 0; page < pages; page++) {
        const items = pageItems(page, pages);
        expect(items).toContain(page);
        expect(items[0]).toBe(0);
        expect(items[items.length - 1]).toBe(pages - 1);
        expect(items.length).toBeLessThanOrEqual(9);
      }
    }
  });
});

describe("summarizeResult", () => {
  /** @param {Record<string, string | null>} results */
  const ok = (results) => ({
    kind: /** @type {const} */ ("result"),
    request_id: "r",
    ok: true,
    error: null,
    results,
  });

  it("counts successes and groups failure reasons", () => {
    expect(summarizeResult("cancel", ok({ a: null, b: null, c: null, d: "not running" }))).toEqual({
      text: "3 cancelled, 1 failed: not running",
      tone: "warning",
    });
    expect(summarizeResult("delete", ok({ a: "running", b: "gone" }))).toEqual({
      text: "2 failed: running (1); gone (1)",
      tone: "error",
    });
    expect(summarizeResult("rerun", ok({ a: null }))).toEqual({
      text: "1 queued again",
      tone: "success",
    });
  });

  it("summarises per-job outcomes when ok is false because some jobs failed", () => {
    const partly = { ...ok({ a: null, b: "not running" }), ok: false };
    expect(summarizeResult("cancel", partly)).toEqual({
      text: "1 cancelled, 1 failed: not running",
      tone: "warning",
    });
  });

  it("reports a failed request with its error", () => {
    const failed = { ...ok({}), ok: false, error: "kernel busy" };
    expect(summarizeResult("refresh", failed)).toEqual({
      text: "Refresh failed: kernel busy",
      tone: "error",
    });
  });

  it("says nothing when select_matching worked", () => {
    expect(summarizeResult("select_matching", ok({}))).toBeNull();
  });
});

describe("connectionBadge", () => {
  const now = Date.UTC(2025, 0, 10, 12, 0, 0);
  const base = {
    state: /** @type {const} */ ("live"),
    last_message_at: new Date(now - 1000).toISOString(),
    last_error: null,
    retry_in: null,
    reconnect_attempts: 0,
  };

  it("counts the retry down from when the state arrived", () => {
    const conn = { ...base, state: /** @type {const} */ ("connecting"), retry_in: 10 };
    expect(connectionBadge(conn, now, now).text).toBe("Reconnecting in 10s");
    expect(connectionBadge(conn, now, now + 3500).text).toBe("Reconnecting in 7s");
    expect(connectionBadge(conn, now, now + 60_000).text).toBe("Reconnecting…");
  });

  it("marks a silent live connection stale", () => {
    expect(connectionBadge(base, now, now).stale).toBe(false);
    const badge = connectionBadge(base, now, now + 120_000);
    expect(badge.stale).toBe(true);
    expect(badge.text).toMatch(/^Stale since \d\d:\d\d:\d\d$/);
  });
});

it("shortId keeps the first 8 characters", () => {
  expect(shortId("3f2b9c1e-8a7d-4e0b")).toBe("3f2b9c1e");
});
