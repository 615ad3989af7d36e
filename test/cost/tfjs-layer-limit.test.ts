import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, MOST_LAYERS_PER_BLOCK } from "../../src/compile.ts";
import { audit } from "../../src/report/audit.ts";
import { SIZE_LIMITS } from "../../src/scaling/scale.ts";
import { caseText, seedSpecs } from "../../fuzz/harness.ts";

/**
 * `check` knows a variant is under SIZE_LIMITS.tfjsLayers without lowering it when its
 * blocks, times MOST_LAYERS_PER_BLOCK, cannot reach the limit (src/compile.ts). That bound
 * must hold for every block any operator lowers to: held here over every variant of every
 * shipped spec (every operator, squeeze-and-excitation of both rules, Keras's explicit
 * padding, drop connect, residual adds, MobileNetV3's hidden classifier) and a seeded
 * sample of the fuzzer's specs (random operators, expansions and SE ratios).
 */
describe("the tfjs-layer limit's bound on layers per block", () => {
  const specs = readdirSync("specs")
    .filter((f) => f.endsWith(".effnet"))
    .map((f) => readFileSync(`specs/${f}`, "utf8"));
  const seeds = seedSpecs();
  const sample = Array.from({ length: 300 }, (_, i) => caseText(7, i, seeds));
  it("holds for every block of the shipped specs and of 300 fuzzed ones", () => {
    let most = 0;
    let variants = 0;
    for (const text of [...specs, ...sample]) {
      const compilation = compile({ path: "x.effnet", text });
      if (compilation.diagnostics.some((d) => d.severity === "error")) continue;
      for (const v of audit(compilation).variants) {
        variants++;
        const blocks = v.stages.flatMap((s) => s.blocks);
        for (const block of blocks) most = Math.max(most, block.layers.length);
        const built = compilation.variants.find((c) => c.variant.name === v.name)!.ir.layers.length;
        expect(built).toBeLessThanOrEqual((blocks.length + 2) * MOST_LAYERS_PER_BLOCK);
      }
    }
    expect(variants).toBeGreaterThan(100);
    expect(most).toBeLessThanOrEqual(MOST_LAYERS_PER_BLOCK);
  });

  it("makes check and compile agree just past the limit", () => {
    const text = readFileSync("test/errors/EFF3001-too-deep-for-tfjs.effnet", "utf8");
    const full = compile({ path: "x.effnet", text });
    const quick = compile({ path: "x.effnet", text }, { diagnosticsOnly: true });
    expect(quick.diagnostics.map((d) => d.message)).toEqual(full.diagnostics.map((d) => d.message));
    expect(full.diagnostics[0].message).toContain(`(limit ${SIZE_LIMITS.tfjsLayers.toLocaleString("en-US")}`);
    // One block fewer per 14 layers brings it under: the limit is on layers, not blocks.
    const under = compile({ path: "x.effnet", text: text.replace("| 400    |", "| 350    |") });
    expect(under.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});
