import type { CostTotals } from "../cost/totals.ts";
import { applyRounding } from "../vocabulary/rounding.ts";
import { constraintValue } from "../semantics/scaling.ts";
import type { Spec } from "../semantics/spec.ts";
import { Costing, type Coefficients } from "./hypothetical.ts";
import { metricValue, type BudgetLimit } from "./solve.ts";

/**
 * `effnet search`: step 1 of compound scaling (Tan & Le 2019, section 3.3): "fix φ = 1,
 * assuming twice more resources available, and do a small grid search of α, β, γ" under
 * α·β²·γ² ≈ 2. The paper ranks candidates by ImageNet accuracy, which cannot be measured
 * here, so the ranking is by a declared objective over exact costs:
 *
 * - `macs` (the default): closeness of the rounded network's cost growth to the law the
 *   constraint promises, |log₂(MACs(α^φ, β^φ, γ^φ) / MACs(baseline)) − φ·log₂(target)|
 *   (target 2: "FLOPS grow by 2^φ"). Rounding (ceil of repeats, multiples of 8, strided
 *   halving) and the unscaled parts make the built network miss the law by different
 *   amounts for different α, β, γ; the top candidates are those whose budget is what
 *   the constraint says it is. Ties go to fewer parameters.
 * - `pareto`: non-dominated layers of (parameters, MACs), both smaller better: layer 1
 *   is the pareto front; within a layer, by the `macs` objective.
 *
 * Candidates outside the constraint's tolerance are not costed; those the variant
 * pipeline would refuse (EFF3001/3002/3003/4002) or over a budget are counted, not
 * ranked. Every candidate is costed by the fast exact cost (src/cost/totals.ts).
 */
export type Objective = "macs" | "pareto";

/** The ranking objectives, each with its definition as `search` prints it (the one table). */
export const OBJECTIVES: Readonly<Record<Objective, string>> = {
  macs: "closeness of the rounded network's MACs growth to target^φ: |log₂(MACs / baseline MACs) − φ·log₂ target| (ties: fewer parameters)",
  pareto: "pareto layers of (parameters, MACs), layer 1 the front; within a layer as `macs`",
};

export interface GridAxis {
  readonly from: number;
  readonly to: number;
  readonly step: number;
}

export interface SearchOptions {
  readonly phi: number;
  readonly grid: { readonly alpha: GridAxis; readonly beta: GridAxis; readonly gamma: GridAxis };
  readonly target: number;
  readonly tolerance: number;
  readonly budgets: readonly BudgetLimit[];
  readonly objective: Objective;
  /** Called every few thousand candidates: done and total of the constraint-satisfying ones. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Candidate {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  /** α·β²·γ² (the spec's constraint exponents). */
  readonly constraint: number;
  readonly coefficients: Coefficients;
  readonly cost: CostTotals;
  readonly macsRatio: number;
  /** |log₂ macsRatio − φ·log₂ target|: the `macs` objective, in doublings. */
  readonly deviation: number;
  /** Pareto layer (1 = front); 0 unless the objective is `pareto`. */
  readonly layer: number;
  /** 1-based place in the ranking. */
  rank: number;
}

export interface SearchResult {
  readonly options: Omit<SearchOptions, "onProgress">;
  readonly baseline: CostTotals;
  readonly gridPoints: number;
  readonly withinTolerance: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly overBudget: number;
  readonly ranked: readonly Candidate[];
  /** The spec's own α, β, γ, costed and placed in the ranking (even when off the grid), or null without a compound rule. */
  readonly declared: Candidate | null;
  /** Whether the declared coefficients are one of the grid's points. */
  readonly declaredOnGrid: boolean;
}

/** from, from + step, … ≤ to, each to 10 significant digits (no accumulated float error). */
export function axisValues(axis: GridAxis): number[] {
  const n = Math.floor((axis.to - axis.from) / axis.step + 1e-9);
  return Array.from({ length: n + 1 }, (_, k) => Number((axis.from + k * axis.step).toPrecision(10)));
}

/** The paper does not print its grid; 1.00 … 1.40 by 0.05 on each axis brackets its α = 1.2, β = 1.1, γ = 1.15. */
export const DEFAULT_AXIS: GridAxis = { from: 1, to: 1.4, step: 0.05 };

export function search(spec: Spec, options: SearchOptions): SearchResult {
  const costing = new Costing(spec);
  const exponents = spec.scaling.compound?.constraint?.exponents ?? { alpha: 1, beta: 2, gamma: 2 };
  const r0 = spec.input.height;
  const baseline = costing.totals({ width: 1, depth: 1, resolution: r0 });
  const law = options.phi * Math.log2(options.target);
  const refused: Record<string, number> = {};
  let overBudget = 0;

  const evaluate = (alpha: number, beta: number, gamma: number): Candidate | string => {
    const coefficients: Coefficients = {
      depth: alpha ** options.phi,
      width: beta ** options.phi,
      resolution: applyRounding(r0 * gamma ** options.phi, spec.scaling.resolution.rule),
    };
    const screened = costing.screen(coefficients);
    if (!screened.ok) return screened.code;
    const cost = screened.totals;
    const macsRatio = cost.macs / baseline.macs;
    return {
      alpha,
      beta,
      gamma,
      constraint: constraintValue({ alpha, beta, gamma }, exponents),
      coefficients,
      cost,
      macsRatio,
      deviation: Math.abs(Math.log2(macsRatio) - law),
      layer: 0,
      rank: 0,
    };
  };

  const [as, bs, gs] = [axisValues(options.grid.alpha), axisValues(options.grid.beta), axisValues(options.grid.gamma)];
  const within: [number, number, number][] = [];
  for (const a of as)
    for (const b of bs)
      for (const g of gs)
        if (
          Math.abs(constraintValue({ alpha: a, beta: b, gamma: g }, exponents) - options.target) <=
          options.tolerance + 1e-12
        )
          within.push([a, b, g]);

  let candidates: Candidate[] = [];
  within.forEach(([a, b, g], i) => {
    const c = evaluate(a, b, g);
    if (typeof c === "string") refused[c] = (refused[c] ?? 0) + 1;
    else if (options.budgets.some((budget) => metricValue(budget.metric, c.cost) > budget.limit)) overBudget++;
    else candidates.push(c);
    if (options.onProgress && (i % 4096 === 4095 || i === within.length - 1)) options.onProgress(i + 1, within.length);
  });
  if (options.objective === "pareto") candidates = paretoLayers(candidates);
  const order = (x: Candidate, y: Candidate) =>
    x.layer - y.layer ||
    x.deviation - y.deviation ||
    x.cost.params.total - y.cost.params.total ||
    x.alpha - y.alpha ||
    x.beta - y.beta ||
    x.gamma - y.gamma;
  candidates.sort(order);
  candidates.forEach((c, i) => (c.rank = i + 1));

  const rule = spec.scaling.compound;
  let declared: Candidate | null = null;
  let declaredOnGrid = false;
  if (rule) {
    const found = candidates.find((c) => c.alpha === rule.alpha && c.beta === rule.beta && c.gamma === rule.gamma);
    declaredOnGrid = found !== undefined;
    const own = found ?? evaluate(rule.alpha, rule.beta, rule.gamma);
    if (typeof own !== "string") {
      if (!found) {
        // Off the grid (or outside the tolerance): its place is where it would sort among the ranked.
        const layered = options.objective === "pareto" ? { ...own, layer: layerAmong(own, candidates) } : own;
        layered.rank = candidates.filter((c) => order(c, layered) < 0).length + 1;
        declared = layered;
      } else declared = found;
    }
  }
  const { onProgress: _, ...rest } = options;
  return {
    options: rest,
    baseline,
    gridPoints: as.length * bs.length * gs.length,
    withinTolerance: within.length,
    refused,
    overBudget,
    ranked: candidates,
    declared,
    declaredOnGrid,
  };
}

const dominates = (x: Candidate, y: Candidate) =>
  x.cost.params.total <= y.cost.params.total &&
  x.cost.macs <= y.cost.macs &&
  (x.cost.params.total < y.cost.params.total || x.cost.macs < y.cost.macs);

/**
 * Non-dominated sorting of (parameters, MACs) in O(n log n): in order of parameters (then
 * MACs), a candidate joins the first layer whose last member has more MACs than it (or the
 * same network's figures); the layers' last MACs increase, so the layer is found by bisection.
 */
function paretoLayers(candidates: readonly Candidate[]): Candidate[] {
  const sorted = [...candidates].sort((x, y) => x.cost.params.total - y.cost.params.total || x.cost.macs - y.cost.macs);
  const last: Candidate[] = [];
  return sorted.map((c) => {
    const joins = (l: Candidate) =>
      l.cost.macs > c.cost.macs || (l.cost.macs === c.cost.macs && l.cost.params.total === c.cost.params.total);
    let lo = 0;
    let hi = last.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (joins(last[mid])) hi = mid;
      else lo = mid + 1;
    }
    last[lo] = c;
    return { ...c, layer: lo + 1 };
  });
}

/** The pareto layer a candidate would fall in: one past the deepest layer holding a candidate that dominates it. */
function layerAmong(own: Candidate, ranked: readonly Candidate[]): number {
  return ranked.filter((c) => dominates(c, own)).reduce((m, c) => Math.max(m, c.layer), 0) + 1;
}
