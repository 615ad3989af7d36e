import { describe, expect, it } from "vitest";
import { SCALING_DIMENSION_NAMES as DIMENSIONS } from "../../src/vocabulary/dimensions.ts";
import { auditPath } from "./helpers.ts";

/**
 * The compound-scaling audit against its definition (src/report/compound.ts) and the
 * published facts (docs/reference.md), never against figures
 * copied from effnet's own output.
 */
const doc = auditPath("specs/efficientnet.effnet");
const byName = new Map(doc.variants.map((v) => [v.name, v]));
const { alpha, beta, gamma } = doc.network!.scaling.compound!;

describe("compound-scaling audit", () => {
  it("reproduces the published counts it divides by", () => {
    expect(byName.get("B0")!.params.trainable).toBe(5_288_548);
    expect(byName.get("B7")!.params.trainable).toBe(66_347_960);
    expect(byName.get("B0")!.macs / 1e9).toBeCloseTo(0.386, 3);
    // The baseline is the stage table as written, which is B0.
    expect(doc.network!.baseline.macs).toBe(byName.get("B0")!.macs);
  });

  it.each(["B1", "B2", "B3", "B4", "B5", "B6", "B7"])(
    "%s: implied φ, the 2^φ ratio and a decomposition that sums to the deviation",
    (name) => {
      const v = byName.get(name)!;
      const a = v.compound!;
      expect(a.phiSource).toBe("implied");
      expect(a.dimensions.depth.impliedPhi).toBeCloseTo(Math.log(v.depth) / Math.log(alpha), 12);
      expect(a.dimensions.width.impliedPhi).toBeCloseTo(Math.log(v.width) / Math.log(beta), 12);
      expect(a.dimensions.resolution.impliedPhi).toBeCloseTo(Math.log(v.resolution / 224) / Math.log(gamma), 12);
      // φ is the coefficients' own: (α·β²·γ²)^φ = d·w²·(r/r₀)².
      expect((alpha * beta ** 2 * gamma ** 2) ** a.phi).toBeCloseTo(
        v.depth * v.width ** 2 * (v.resolution / 224) ** 2,
        9,
      );
      expect(a.macsRatio).toBeCloseTo(v.macs / doc.network!.baseline.macs, 12);
      expect(a.lawRatio).toBeCloseTo(2 ** a.phi, 12);
      expect(a.deviation).toBeCloseTo(Math.log2(a.macsRatio) - a.phi, 12);
      const sum = DIMENSIONS.reduce((s, d) => s + a.dimensions[d].contribution, 0);
      expect(Math.abs(sum - a.deviation)).toBeLessThan(1e-12);
      for (const d of DIMENSIONS) {
        const x = a.dimensions[d];
        expect(x.rounding + x.coefficientPart).toBeCloseTo(x.contribution, 12);
      }
      // Shapley efficiency: the realized factors multiply to the actual MACs ratio.
      const product = DIMENSIONS.reduce((p, d) => p * a.dimensions[d].realizedCostFactor, 1);
      expect(product).toBeCloseTo(a.macsRatio, 9);
      // The targets split φ among the dimensions.
      expect(DIMENSIONS.reduce((s, d) => s + a.dimensions[d].targetDoublings, 0)).toBeCloseTo(a.phi, 12);
    },
  );

  it("B1 widens nothing, so width contributes no realized cost", () => {
    const w = byName.get("B1")!.compound!.dimensions.width;
    expect(w.impliedPhi).toBe(0);
    expect(w.realizedCostFactor).toBeCloseTo(1, 12);
  });

  it("a φ variant implies the same φ in every dimension, and rounds its resolution as rounding", () => {
    const v = byName.get("B8phi")!;
    const a = v.compound!;
    expect(a.phiSource).toBe("declared");
    expect(a.phi).toBe(8);
    for (const d of DIMENSIONS) expect(a.dimensions[d].impliedPhi).toBeCloseTo(8, 12);
    // For a φ variant, the coefficient parts are only the α·β²·γ² ≠ 2 gap: they sum to φ·(log₂(α·β²·γ²) − 1).
    const gap = DIMENSIONS.reduce((s, d) => s + a.dimensions[d].coefficientPart, 0);
    expect(gap).toBeCloseTo(8 * (Math.log2(alpha * beta ** 2 * gamma ** 2) - 1), 12);
  });

  it("the baseline has no deviation", () => {
    const a = byName.get("B0")!.compound!;
    expect(a.phi).toBe(0);
    expect(a.deviation).toBeCloseTo(0, 12);
  });

  it("is absent without `scaling compound`", () => {
    expect(auditPath("specs/mobilenetv2.effnet").variants.every((v) => v.compound === null)).toBe(true);
  });
});
