import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { audit } from "../../src/report/audit.ts";
import { memoryAtBatch, OPTIMIZERS } from "../../src/report/memory.ts";
import { auditPath, compilePath, GOLDEN_SPEC } from "./helpers.ts";

const efficientnet = readFileSync("specs/efficientnet.effnet", "utf8");
const withPreset = (preset: string) => efficientnet.replace("  variant B8phi", `  rounding ${preset}\n  variant B8phi`);

describe("rounding presets", () => {
  it("torchvision ties the head to 4 × the last stage's rounded channels; keras rounds 1280·w", () => {
    const tv = compilePath("specs/efficientnet.effnet", withPreset("torchvision"));
    const keras = compilePath("specs/efficientnet.effnet", withPreset("keras"));
    expect(tv.ok && keras.ok).toBe(true);
    for (const v of tv.variants) {
      const [stage8, head] = [v.scaled.stages[7], v.scaled.stages[8]];
      expect(head.channels.value).toBe(4 * stage8.channels.value);
      expect(head.channels.provenance).toContain("torchvision");
    }
    // The reference code's rule (efficientnet-facts.md): round to a multiple of 8, at least 90% of 1280·w.
    for (const v of keras.variants) {
      const x = 1280 * v.variant.width;
      let expected = Math.max(8, Math.floor(Math.floor(x + 4) / 8) * 8);
      if (expected < 0.9 * x) expected += 8;
      expect(v.scaled.stages[8].channels.value).toBe(expected);
    }
  });

  it("B0–B7 have the same shape under both presets; the audit flags the variant that does not", () => {
    const doc = auditPath("specs/efficientnet.effnet");
    expect(doc.network!.rounding.preset).toBe("keras");
    for (const v of doc.variants) {
      const [other] = v.roundingPresets;
      expect(other.preset).toBe("torchvision");
      if (/^B[0-7]$/.test(v.name)) expect(other.sameShape).toBe(true);
    }
    const b8 = doc.variants.find((v) => v.name === "B8phi")!.roundingPresets[0];
    expect(b8.sameShape).toBe(false);
    expect(b8.differences.map((d) => d.stage)).toEqual([9]);
    // The other preset's cost is that of the spec compiled with it.
    const tv = compilePath("specs/efficientnet.effnet", withPreset("torchvision"), { variants: ["B8phi"] });
    expect(b8.macs).toBe(tv.variants[0].cost.macs);
    expect(b8.params!.total).toBe(tv.variants[0].cost.params.total);
  });

  it("an unknown preset is a diagnostic, not a crash", () => {
    const c = compilePath("specs/efficientnet.effnet", withPreset("caffe"));
    expect(c.ok).toBe(false);
    expect(c.diagnostics[0].message).toContain("rounding");
  });
});

describe("memory by batch", () => {
  const v = compilePath("specs/efficientnet.effnet", efficientnet, { variants: ["B4"] }).variants[0];
  it("is linear in the batch for activations and constant for parameters and optimizer state", () => {
    const one = memoryAtBatch(v.ir, v.cost, 1);
    const many = memoryAtBatch(v.ir, v.cost, 32);
    expect(many.inference.activations).toBe(32 * one.inference.activations);
    expect(many.training.activations).toBe(32 * one.training.activations);
    expect(many.training.params).toBe(one.training.params);
    expect(one.inference.activations).toBe(v.cost.memory.activationBytesPeak);
    expect(one.training.params).toBe(v.cost.memory.paramBytes);
    expect(one.training.gradients).toBe(4 * v.cost.params.trainable);
    expect(one.training.optimizerState).toBe(OPTIMIZERS.adam.statePerParam * 4 * v.cost.params.trainable);
    for (const m of [one, many]) {
      expect(m.inference.total).toBe(m.inference.params + m.inference.activations);
      expect(m.training.total).toBe(
        m.training.params +
          m.training.gradients +
          m.training.optimizerState +
          m.training.activations +
          m.training.workspace +
          m.training.heapOverhead,
      );
      expect(m.training.total).toBeGreaterThan(m.inference.total);
    }
  });
  it("follows --batch in the audit document", () => {
    const doc = auditPath("specs/efficientnet.effnet", { batches: [4, 64], optimizer: "sgd" });
    expect(doc.memorySettings.batches).toEqual([4, 64]);
    for (const variant of doc.variants) {
      expect(variant.memoryByBatch.map((m) => m.batch)).toEqual([4, 64]);
      expect(variant.memoryByBatch.every((m) => m.training.optimizerState === 0)).toBe(true);
    }
  });
});

describe("budgets in the report", () => {
  it("lists every budget with each applicable variant's figure", () => {
    const doc = auditPath(GOLDEN_SPEC);
    expect(doc.budgets.map((b) => [b.metric, b.variant])).toEqual([
      ["macs", null],
      ["params", "T0"],
    ]);
    expect(doc.budgets[0].checks.map((c) => c.variant)).toEqual(doc.variants.map((v) => v.name));
    for (const b of doc.budgets) for (const c of b.checks) expect(c.fits).toBe(c.value <= b.limit);
  });

  it("keeps reporting variants that are over budget, beside the EFF4001 error at the budget's line", () => {
    const text = readFileSync(GOLDEN_SPEC, "utf8").replace("budget macs <= 20M", "budget macs <= 4M");
    const compilation = compilePath(GOLDEN_SPEC, text);
    expect(compilation.ok).toBe(false);
    const doc = audit(compilation);
    expect(doc.variants.length).toBe(3);
    const over = doc.budgets[0].checks.filter((c) => !c.fits).map((c) => c.variant);
    expect(over).toEqual(["T1", "T3"]);
    const errors = doc.diagnostics.filter((d) => d.code === "EFF4001");
    expect(errors.length).toBe(2);
    for (const e of errors) expect(e.line).toBe(doc.budgets[0].line);
    expect(errors[0].message).toContain("T1");
  });
});
