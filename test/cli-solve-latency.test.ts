import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";

/**
 * `effnet solve --budget latency=…`: measured forward latency as a budget. Time is not
 * asserted: with a latency budget no network of this small spec can miss (10 s), the answer
 * is the cost budget's, which the cost-only solve computes exactly.
 */
const SPEC = "test/baselines/tiny-mbconv.effnet";

describe("solve with a latency budget", () => {
  it("measures the φ it asks about and agrees with the cost budget when latency does not bind", async () => {
    const cost = await runCli("solve", SPEC, "--budget", "macs=20M");
    const measured = await runCli("solve", SPEC, "--budget", "macs=20M", "--budget", "latency=10s", "--runs", "1");
    expect(measured.code, measured.stderr).toBe(0);
    const line = (text: string) => /variant Solved phi (-?[0-9.]+)/.exec(text)?.[1];
    expect(line(measured.stdout)).toBeDefined();
    expect(line(measured.stdout)).toBe(line(cost.stdout));
    expect(measured.stdout).toMatch(/within latency ≤ 10000 ms and MACs ≤ 20M on wasm, forward at batch 1/);
    expect(measured.stderr).toMatch(/solve: φ = 0: [0-9.]+ ms on wasm/);
  }, 60_000);

  it("usage: one latency budget, --backend/--runs only with it, no --json", async () => {
    for (const args of [
      ["--budget", "latency=1s", "--budget", "latency=2s"],
      ["--budget", "macs=20M", "--backend", "wasm"],
      ["--budget", "macs=20M", "--runs", "3"],
      ["--budget", "latency=1s", "--json"],
      ["--budget", "latency=fast"],
    ]) {
      const r = await runCli("solve", SPEC, ...args);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });
});
