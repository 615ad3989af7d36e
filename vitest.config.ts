import { defineConfig } from "vitest/config";

// Tests only; benchmarks live in bench/ and run with `npm run bench`.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
