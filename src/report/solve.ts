import { BUDGET_METRIC_NAMES, BUDGET_METRICS, metricValue } from "../vocabulary/budgets.ts";
import type { CompiledVariant } from "../compile.ts";
import type { CostTotals } from "../cost/totals.ts";
import { formatCount } from "../cost/units.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { phiCoefficients } from "../semantics/scaling.ts";
import type { BudgetMetric, Spec } from "../semantics/spec.ts";
import { UNIT_SUFFIXES } from "../semantics/values.ts";
import { Costing, hypotheticalVariant, type Coefficients } from "./hypothetical.ts";

/**
 * `effnet solve`: the largest φ whose compound-scaled, rounded network fits a budget.
 *
 * MACs and parameters are step functions of φ: each coefficient is rounded (ceil of
 * repeats, channels to multiples of 8, resolution to the spec's rule, strided halving),
 * so the cost is flat between steps and a bisection on φ could stop on any step edge, or,
 * with a rule that is not monotone, on the wrong side of a dip. So the answer is defined
 * on a grid and found by scanning it:
 *
 *   φ* = the largest k·precision (k = 0, 1, 2, …) such that every grid point from 0 up
 *        to it fits the budgets, when the baseline (φ = 0) fits;
 *   φ* = the largest k·precision (k = −1, −2, …, down to LOWEST_PHI) that fits, when the
 *        baseline does not (a sub-baseline budget: `variant Half phi -1` is legal).
 *
 * Hence φ* fits and φ* + precision does not, which `effnet solve` prints and a test
 * checks. Each grid point is costed by the fast exact cost (src/cost/totals.ts), a few
 * microseconds, and only the answer is lowered to layers.
 */
export interface BudgetLimit {
  readonly metric: BudgetMetric;
  readonly limit: number;
}

export interface SolvedPoint {
  readonly phi: number;
  readonly coefficients: Coefficients;
  readonly cost: CostTotals;
  /** The budgets this point is over (empty when it fits). */
  readonly over: readonly BudgetMetric[];
}

export interface Solution {
  readonly budgets: readonly BudgetLimit[];
  readonly precision: number;
  readonly best: SolvedPoint;
  /** best.phi + precision: the first grid point that does not fit. */
  readonly next: SolvedPoint;
  /** The network at best.phi, for stage tables. */
  readonly network: CompiledVariant;
  /** Distinct networks built during the scan. */
  readonly networksBuilt: number;
  readonly gridPoints: number;
  /** `variant Solved phi 1.35`: the line to paste into the spec. */
  readonly line: string;
}

export const DEFAULT_PRECISION = 0.01;

export { metricValue };

export function describeBudgets(budgets: readonly BudgetLimit[]): string {
  return budgets.map((b) => `${BUDGET_METRICS[b.metric].name} ≤ ${formatCount(b.limit)}`).join(" and ");
}

// The spec's `budget macs <= 40G` as one shell word: a metric of the table, `<=` (or `=`,
// which needs no quoting), a number with a unit suffix of the spec's quantities.
const CLI_BUDGET = new RegExp(
  `^\\s*(${BUDGET_METRIC_NAMES.join("|")})\\s*(?:<=|=|≤)\\s*([0-9]*\\.?[0-9]+(?:e[+-]?[0-9]+)?)([${Object.keys(UNIT_SUFFIXES).join("")}]?)\\s*$`,
  "i",
);

/** `macs=2G`, `params<=10M`: a command-line budget, or undefined when it is not one. */
export function parseBudget(text: string): BudgetLimit | undefined {
  const m = CLI_BUDGET.exec(text);
  if (!m) return undefined;
  const limit = Number(m[2]) * (m[3] ? UNIT_SUFFIXES[m[3].toUpperCase()] : 1);
  return limit > 0 && Number.isFinite(limit) ? { metric: m[1].toLowerCase() as BudgetMetric, limit } : undefined;
}

/** `latency=50ms`, `latency<=0.2s`: a latency budget in milliseconds, or undefined when the text is not one. */
export function parseLatencyBudget(text: string): number | undefined {
  const m = /^\s*latency\s*(?:<=|=|≤)\s*([0-9]*\.?[0-9]+)\s*(ms|s)\s*$/i.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (m[2].toLowerCase() === "s" ? 1000 : 1);
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** φ on the grid without accumulating floating-point error: k·precision, to 12 significant digits. */
const gridPhi = (k: number, precision: number) => Number((k * precision).toPrecision(12));

/**
 * How far below the baseline a sub-baseline budget is searched: at φ = −40 every shipped
 * spec's coefficients (α, β, γ ≥ 1.1) are below 0.03, so each stage has rounded to its
 * smallest (1 layer, one divisor of channels, the smallest resolution) long before.
 */
export const LOWEST_PHI = -40;

/**
 * The largest φ = k·precision for which `fits` holds, for a `fits` that is monotone (true
 * up to some φ, false beyond it) and costly (a measured latency): brackets the answer by
 * steps that double from φ = 0 (upward, or downward when φ = 0 does not fit, no lower than
 * LOWEST_PHI nor higher than −LOWEST_PHI), then bisects, so it asks O(log(range /
 * precision)) points. Returns the answer and the grid point after it (which does not
 * fit), or undefined when nothing down to LOWEST_PHI fits.
 */
export async function largestFittingPhi(
  fits: (phi: number) => Promise<boolean>,
  precision: number,
): Promise<{ phi: number; next: number } | undefined> {
  const lowest = Math.ceil(LOWEST_PHI / precision);
  const highest = -lowest;
  const unit = Math.max(1, Math.round(1 / precision));
  const fitsAt = (k: number) => fits(gridPhi(k, precision));
  let lo: number;
  let hi: number;
  if (await fitsAt(0)) {
    lo = 0;
    let step = unit;
    hi = Math.min(lo + step, highest + 1);
    while (hi <= highest && (await fitsAt(hi))) {
      lo = hi;
      step *= 2;
      hi = Math.min(lo + step, highest + 1);
    }
  } else {
    hi = 0;
    let step = unit;
    lo = Math.max(hi - step, lowest);
    while (!(await fitsAt(lo))) {
      if (lo === lowest) return undefined;
      hi = lo;
      step *= 2;
      lo = Math.max(hi - step, lowest);
    }
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await fitsAt(mid)) lo = mid;
    else hi = mid;
  }
  return { phi: gridPhi(lo, precision), next: gridPhi(hi, precision) };
}

/** The variant line `solve` prints to paste into the spec's body. */
export function variantLine(name: string, phi: number): string {
  return `variant ${name} phi ${phi}`;
}

/**
 * φ ≥ 0 when the baseline fits: the largest k·precision such that every grid point from 0
 * up to it fits. A budget below the baseline searches down (`variant Half phi -1` is
 * legal): the first k·precision below 0 that fits. Either way φ fits and φ + precision
 * does not. Candidates are costed by the fast exact cost; the answer is then built
 * through the variant pipeline (compile.ts, buildVariant) for its stage table.
 */
export function solve(
  spec: Spec,
  budgets: readonly BudgetLimit[],
  precision = DEFAULT_PRECISION,
  name = "Solved",
): { solution?: Solution; diagnostics: Diagnostic[] } {
  if (!spec.scaling.compound) return { diagnostics: [diagnostic("EFF0004", { network: spec.name })] };
  const costing = new Costing(spec);
  const evaluate = (phi: number): SolvedPoint | { tooLarge: string } => {
    const coefficients = phiCoefficients(spec.scaling, spec.input.height, phi)!;
    const screened = costing.screen(coefficients);
    if (!screened.ok) return { tooLarge: `at φ = ${phi}: ${screened.why} (${screened.code})` };
    const cost = screened.totals;
    return {
      phi,
      coefficients,
      cost,
      over: budgets.filter((b) => metricValue(b.metric, cost) > b.limit).map((b) => b.metric),
    };
  };
  const usage = (p: SolvedPoint) =>
    budgets.map((b) => `${formatCount(metricValue(b.metric, p.cost))} ${BUDGET_METRICS[b.metric].name}`).join(", ");
  const solved = (best: SolvedPoint, next: SolvedPoint, gridPoints: number) => {
    const variant = hypotheticalVariant(spec, name, best.coefficients, best.phi);
    const built = costing.build(variant, {});
    if (!built.compiled) return { diagnostics: built.diagnostics };
    const solution: Solution = {
      budgets,
      precision,
      best,
      next,
      network: built.compiled,
      networksBuilt: costing.networksBuilt,
      gridPoints,
      line: variantLine(name, best.phi),
    };
    return { solution, diagnostics: [] };
  };
  const first = evaluate(0);
  if ("tooLarge" in first)
    return {
      diagnostics: [diagnostic("EFF0006", { budgets: describeBudgets(budgets), phi: "0", what: first.tooLarge })],
    };
  if (first.over.length) {
    // Below the baseline: scan down to the first grid point that fits.
    let previous: SolvedPoint = first;
    for (let k = -1; gridPhi(k, precision) >= LOWEST_PHI; k--) {
      const point = evaluate(gridPhi(k, precision));
      if ("tooLarge" in point) break; // degenerate (EFF3002): nothing smaller can be built
      if (point.over.length === 0) return solved(point, previous, 1 - k);
      previous = point;
    }
    return {
      diagnostics: [
        diagnostic("EFF0005", {
          budgets: describeBudgets(budgets),
          phi: String(previous.phi),
          cost: usage(previous),
        }),
      ],
    };
  }
  let best: SolvedPoint = first;
  for (let k = 1; ; k++) {
    const point = evaluate(gridPhi(k, precision));
    if ("tooLarge" in point)
      return {
        diagnostics: [
          diagnostic("EFF0006", { budgets: describeBudgets(budgets), phi: String(best.phi), what: point.tooLarge }),
        ],
      };
    if (point.over.length) return solved(best, point, k + 1);
    best = point;
  }
}
