import type { CompiledVariant } from "../compile.ts";
import type { NetworkCost } from "../cost/cost.ts";
import { formatCount } from "../cost/units.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { lower } from "../ir/lower.ts";
import { SIZE_LIMITS } from "../scaling/scale.ts";
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
 *        to it fits the budgets.
 *
 * Hence φ* fits and φ* + precision does not, which `effnet solve` prints and a test
 * checks. The scan is cheap because networks are memoized by shape: a grid of 800
 * points up to φ = 8 builds only the networks at which some rounded number changes.
 */
export interface BudgetLimit {
  readonly metric: BudgetMetric;
  readonly limit: number;
}

export interface SolvedPoint {
  readonly phi: number;
  readonly coefficients: Coefficients;
  readonly cost: NetworkCost;
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
}

export const DEFAULT_PRECISION = 0.01;

const METRICS: Readonly<Record<BudgetMetric, { readonly name: string; readonly of: (c: NetworkCost) => number }>> = {
  macs: { name: "MACs", of: (c) => c.macs },
  flops: { name: "FLOPs", of: (c) => c.flops },
  params: { name: "parameters", of: (c) => c.params.total },
};

export function metricValue(metric: BudgetMetric, cost: NetworkCost): number {
  return METRICS[metric].of(cost);
}

export function describeBudgets(budgets: readonly BudgetLimit[]): string {
  return budgets.map((b) => `${METRICS[b.metric].name} ≤ ${formatCount(b.limit)}`).join(" and ");
}

/** `macs=2G`, `params<=10M`: a command-line budget, or undefined when it is not one. */
export function parseBudget(text: string): BudgetLimit | undefined {
  const m = /^\s*(macs|flops|params)\s*(?:<=|=|≤)\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)([KMGBT]?)\s*$/i.exec(text);
  if (!m) return undefined;
  const limit = Number(m[2]) * (m[3] ? UNIT_SUFFIXES[m[3].toUpperCase()] : 1);
  return limit > 0 && Number.isFinite(limit) ? { metric: m[1].toLowerCase() as BudgetMetric, limit } : undefined;
}

/** φ on the grid without accumulating floating-point error: k·precision, to 12 significant digits. */
const gridPhi = (k: number, precision: number) => Number((k * precision).toPrecision(12));

export function solve(
  spec: Spec,
  budgets: readonly BudgetLimit[],
  precision = DEFAULT_PRECISION,
): { solution?: Solution; diagnostics: Diagnostic[] } {
  if (!spec.scaling.compound) return { diagnostics: [diagnostic("EFF0004", { network: spec.name })] };
  const costing = new Costing(spec);
  const evaluate = (phi: number): SolvedPoint | { tooLarge: string } => {
    const coefficients = phiCoefficients(spec.scaling, spec.input.height, phi)!;
    const network = costing.scaled(coefficients);
    if (!network)
      return {
        tooLarge: `at φ = ${phi}: past the size limits (EFF3001: 2,000 layers, 4,096 px, 10⁹ parameters, 10¹² MACs)`,
      };
    const cost = costing.costOf(network);
    if (cost.params.total > SIZE_LIMITS.params || cost.macs > SIZE_LIMITS.macs)
      return {
        tooLarge: `at φ = ${phi}: ${formatCount(cost.params.total)} parameters, ${formatCount(cost.macs)} MACs`,
      };
    return {
      phi,
      coefficients,
      cost,
      over: budgets.filter((b) => metricValue(b.metric, cost) > b.limit).map((b) => b.metric),
    };
  };
  const first = evaluate(0);
  if ("tooLarge" in first)
    return {
      diagnostics: [diagnostic("EFF0006", { budgets: describeBudgets(budgets), phi: "0", what: first.tooLarge })],
    };
  if (first.over.length) {
    const costs = budgets
      .map((b) => `${formatCount(metricValue(b.metric, first.cost))} ${METRICS[b.metric].name}`)
      .join(", ");
    return { diagnostics: [diagnostic("EFF0005", { budgets: describeBudgets(budgets), cost: costs })] };
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
    if (point.over.length) {
      const variant = hypotheticalVariant(
        spec,
        `phi_${String(best.phi).replace(/\W/g, "_")}`,
        best.coefficients,
        best.phi,
      );
      const scaled = costing.scaled(best.coefficients)!;
      const network: CompiledVariant = {
        variant,
        scaled: { ...scaled, variant },
        ir: lower({ ...scaled, variant }),
        cost: best.cost,
      };
      return {
        solution: {
          budgets,
          precision,
          best,
          next: point,
          network,
          networksBuilt: costing.networksBuilt,
          gridPoints: k + 1,
        },
        diagnostics: [],
      };
    }
    best = point;
  }
}
