/** Runs around every test: remove mounted views and restore real timers. */

import { afterEach, vi } from "vitest";
import { cleanupViews } from "./helpers.js";

afterEach(() => {
  cleanupViews();
  vi.useRealTimers();
});
