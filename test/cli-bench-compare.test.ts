import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";

/** `effnet bench-model A:V B:W`: the paper's Table 4 for any models (latency and MACs ratios to the first). */
describe("bench-model comparing models", () => {
  it("times each model at batch 1 and prints latency and MACs ratios to the first", async () => {
    const r = await runCli(
      "bench-model",
      "test/baselines/tiny-mbconv.effnet:T1",
      "test/baselines/tiny-resnet.effnet:R0",
      "--backend",
      "wasm",
      "--runs",
      "2",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Forward latency at batch 1, each at its own resolution, on wasm/);
    const rows = r.stdout.split("\n").filter((l) => /^(Tiny T1|TinyResNet R0) /.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/1\.00×\s+1\.00×$/);
    // The MACs ratio comes from the exact cost: TinyResNet R0 ÷ Tiny T1.
    expect(rows[1]).toMatch(/0\.1\d×$/);
  }, 60_000);

  it("refuses single-model options and a second backend", async () => {
    for (const extra of [
      ["--batch", "4"],
      ["--variant", "T0"],
      ["--backend", "wasm,cpu"],
    ]) {
      const r = await runCli(
        "bench-model",
        "test/baselines/tiny-mbconv.effnet:T1",
        "test/baselines/tiny-resnet.effnet",
        ...extra,
      );
      expect(r.code, extra.join(" ")).toBe(2);
    }
  });
});
