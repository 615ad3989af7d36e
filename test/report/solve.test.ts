import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBudget, solve, type BudgetLimit } from "../../src/report/solve.ts";
import { compilePath } from "./helpers.ts";

/**
 * `effnet solve`: the φ it returns fits and φ + precision does not, checked by building
 * both networks through the language itself (`variant X phi N` appended to the spec), so
 * the check shares nothing with the search but the pipeline.
 */
const path = "specs/efficientnet.effnet";
const text = readFileSync(path, "utf8");
const spec = compilePath(path).spec!;

function costAtPhi(phi: number) {
  const withVariant = text.replace(/\}\s*$/, `  variant Probe phi ${phi}\n}\n`);
  const compilation = compilePath(path, withVariant, { variants: ["Probe"], allowHuge: true });
  expect(compilation.ok).toBe(true);
  return compilation.variants[0].cost;
}

const value = (b: BudgetLimit, c: ReturnType<typeof costAtPhi>) =>
  b.metric === "macs" ? c.macs : b.metric === "flops" ? c.flops : c.params.total;

describe("effnet solve", () => {
  const cases: [string, BudgetLimit[], number][] = [
    ["macs=2G", [parseBudget("macs=2G")!], 0.01],
    ["macs=10G, precision 0.05", [parseBudget("macs=10G")!], 0.05],
    ["params=20M and flops<=8G", [parseBudget("params=20M")!, parseBudget("flops<=8G")!], 0.01],
  ];
  it.each(cases)("%s: φ fits, φ + precision does not", (_, budgets, precision) => {
    const { solution, diagnostics } = solve(spec, budgets, precision);
    expect(diagnostics).toEqual([]);
    const phi = solution!.best.phi;
    const fits = costAtPhi(phi);
    const next = costAtPhi(Number((phi + precision).toPrecision(12)));
    for (const b of budgets) expect(value(b, fits)).toBeLessThanOrEqual(b.limit);
    expect(budgets.some((b) => value(b, next) > b.limit)).toBe(true);
    // φ is on the grid and every grid point below it fits too (the definition, checked at a few points).
    expect(Math.abs(phi / precision - Math.round(phi / precision))).toBeLessThan(1e-9);
    for (const below of [0, phi / 2, phi - precision].map((x) => Math.max(0, Math.round(x / precision) * precision))) {
      for (const b of budgets) expect(value(b, costAtPhi(Number(below.toPrecision(12))))).toBeLessThanOrEqual(b.limit);
    }
    // The reported network is the one the language builds at that φ.
    expect(solution!.best.cost.macs).toBe(fits.macs);
    expect(solution!.best.cost.params.total).toBe(fits.params.total);
  });

  it("a budget below the baseline: a negative φ that fits while φ + precision does not", () => {
    const budget = parseBudget("macs=100M")!;
    const { solution, diagnostics } = solve(spec, [budget], 0.01, "Small");
    expect(diagnostics).toEqual([]);
    const phi = solution!.best.phi;
    expect(phi).toBeLessThan(0);
    expect(costAtPhi(phi).macs).toBeLessThanOrEqual(budget.limit);
    expect(costAtPhi(Number((phi + 0.01).toPrecision(12))).macs).toBeGreaterThan(budget.limit);
    // The line to paste builds that network through the language.
    expect(solution!.line).toBe(`variant Small phi ${phi}`);
    const pasted = compilePath(path, text.replace(/\}\s*$/, `  ${solution!.line}\n}\n`), { variants: ["Small"] });
    expect(pasted.ok).toBe(true);
    expect(pasted.variants[0].cost.macs).toBe(solution!.best.cost.macs);
  });

  it("refuses a budget even the smallest network exceeds (EFF0005)", () => {
    expect(solve(spec, [parseBudget("macs=1K")!]).diagnostics.map((d) => d.code)).toEqual(["EFF0005"]);
  });

  it("refuses a spec without compound scaling (EFF0004)", () => {
    expect(
      solve(compilePath("specs/mobilenetv2.effnet").spec!, [parseBudget("macs=1G")!]).diagnostics.map((d) => d.code),
    ).toEqual(["EFF0004"]);
  });

  it("parses budgets with units and refuses malformed ones", () => {
    expect(parseBudget("macs=2G")).toEqual({ metric: "macs", limit: 2e9 });
    expect(parseBudget("params<=10M")).toEqual({ metric: "params", limit: 1e7 });
    expect(parseBudget("FLOPS=500K")).toEqual({ metric: "flops", limit: 5e5 });
    expect(parseBudget("macs=2X")).toBeUndefined();
    expect(parseBudget("latency=2G")).toBeUndefined();
    expect(parseBudget("macs=0")).toBeUndefined();
  });
});

describe("largestFittingPhi (a measured budget's search)", () => {
  it("finds the largest grid φ of a monotone predicate, up or down, in few calls", async () => {
    const { largestFittingPhi } = await import("../../src/report/solve.ts");
    for (const limit of [0, 0.37, 1.5, 3.99, 17.25, -0.42, -6.5, -39.99]) {
      let calls = 0;
      const found = await largestFittingPhi(async (phi) => {
        calls++;
        return phi <= limit + 1e-9;
      }, 0.01);
      expect(found, `limit ${limit}`).toEqual({ phi: limit, next: Number((limit + 0.01).toPrecision(12)) });
      expect(calls, `limit ${limit}`).toBeLessThan(25);
    }
    expect(await largestFittingPhi(async () => false, 0.01)).toBeUndefined();
  });
});
