import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildVariant } from "../../src/compile.ts";
import { Costing, hypotheticalVariant } from "../../src/report/hypothetical.ts";
import { compilePath, GOLDEN_SPEC } from "./helpers.ts";

/**
 * Costing.screen (the fast path `solve` and `search` rank with) refuses exactly what the
 * variant pipeline refuses, with the same code, and otherwise gives its parameters and MACs:
 * random coefficients from degenerate (`round floor` rounds small ones to nothing) to past
 * the size limits.
 */
const text = readFileSync(GOLDEN_SPEC, "utf8").replace("round ceil fixed stages 1, 5", "round floor fixed stages 1, 5");
const spec = compilePath(GOLDEN_SPEC, text).spec!;

describe("Costing.screen agrees with buildVariant", () => {
  it("same refusals and codes, same totals (property)", () => {
    const costing = new Costing(spec);
    const codes = new Set<string>();
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 40, noNaN: true }),
        fc.double({ min: 0.05, max: 400, noNaN: true }),
        fc.integer({ min: 8, max: 6000 }),
        fc.boolean(),
        (width, depth, resolution, allowHuge) => {
          const c = { width, depth, resolution };
          const screened = costing.screen(c, { allowHuge });
          const built = buildVariant({ ...spec, budgets: [] }, hypotheticalVariant(spec, "V", c), { allowHuge });
          const error = built.diagnostics.find((d) => d.severity === "error");
          codes.add(screened.ok ? "ok" : screened.code);
          if (screened.ok) {
            expect(error).toBeUndefined();
            expect(screened.totals.params).toEqual(built.compiled!.cost.params);
            expect(screened.totals.macs).toBe(built.compiled!.cost.macs);
          } else expect(error?.code).toBe(screened.code);
        },
      ),
      { numRuns: 150, seed: 12 },
    );
    // The sample reaches the refusals, not only buildable networks.
    expect([...codes].sort()).toEqual(expect.arrayContaining(["EFF3001", "EFF3002", "ok"]));
  });
});
