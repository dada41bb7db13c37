/** Vitest configuration: the view's unit tests run in jsdom. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.js"],
    setupFiles: ["test/setup.js"],
    testTimeout: 20000,
  },
});
