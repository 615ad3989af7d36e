import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRounding, scaleAndRound } from "../../src/vocabulary/rounding.ts";

/**
 * The rounding rules against a plain transcription of the reference formulas
 * (Keras applications/efficientnet.py; torchvision's _make_divisible is the same rule):
 *
 *   def round_filters(filters, divisor=8):
 *       filters *= width_coefficient
 *       new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
 *       if new_filters < 0.9 * filters: new_filters += divisor
 *       return int(new_filters)
 *
 *   def round_repeats(repeats): return int(math.ceil(depth_coefficient * repeats))
 */
function referenceRoundFilters(filters: number, widthCoefficient: number, divisor: number): number {
  const scaled = filters * widthCoefficient;
  const pyInt = Math.trunc(scaled + divisor / 2); // int() truncates toward zero
  const floorDiv = Math.floor(pyInt / divisor); // // floors
  let rounded = Math.max(divisor, floorDiv * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

const referenceRoundRepeats = (repeats: number, depthCoefficient: number) => Math.ceil(depthCoefficient * repeats);

const coefficient = fc.double({ min: 0.1, max: 8, noNaN: true, noDefaultInfinity: true });

describe("rounding rules = reference formulas", () => {
  it("multiple of N keeping ≥ 90% is round_filters", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        coefficient,
        fc.constantFrom(4, 8, 16, 32),
        (filters, w, divisor) => {
          expect(scaleAndRound(filters, w, { kind: "multiple", divisor, keep: 0.9 }).value).toBe(
            referenceRoundFilters(filters, w, divisor),
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("ceil is round_repeats", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), coefficient, (repeats, d) => {
        expect(scaleAndRound(repeats, d, { kind: "ceil" }).value).toBe(referenceRoundRepeats(repeats, d));
      }),
      { numRuns: 5000 },
    );
  });

  it("the published coefficients give the reference's B0–B7 channels and repeats", () => {
    // Keras DEFAULT_BLOCKS_ARGS filters_out and repeats, stem 32, head 1280.
    const filters = [32, 16, 24, 40, 80, 112, 192, 320, 1280];
    const repeats = [1, 2, 2, 3, 3, 4, 1];
    const coefficients = [
      [1.0, 1.0],
      [1.0, 1.1],
      [1.1, 1.2],
      [1.2, 1.4],
      [1.4, 1.8],
      [1.6, 2.2],
      [1.8, 2.6],
      [2.0, 3.1],
    ];
    for (const [w, d] of coefficients) {
      expect(filters.map((f) => applyRounding(f * w, { kind: "multiple", divisor: 8, keep: 0.9 }))).toEqual(
        filters.map((f) => referenceRoundFilters(f, w, 8)),
      );
      expect(repeats.map((r) => applyRounding(r * d, { kind: "ceil" }))).toEqual(
        repeats.map((r) => referenceRoundRepeats(r, d)),
      );
    }
  });

  it("a multiple never falls below its divisor, and every rounding explains itself", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), coefficient, (filters, w) => {
        const r = scaleAndRound(filters, w, { kind: "multiple", divisor: 8, keep: 0.9 });
        expect(r.value % 8).toBe(0);
        expect(r.value).toBeGreaterThanOrEqual(8);
        expect(r.provenance).toMatch(new RegExp(`^${filters} × .* → ${r.value} \\(multiple of 8, ≥ 90%\\)$`));
      }),
    );
  });
});
