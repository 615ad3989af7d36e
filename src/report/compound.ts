import type { Spec, Variant } from "../semantics/spec.ts";
import { SCALING_DIMENSION_NAMES, SCALING_DIMENSIONS, type ScalingDimension } from "../vocabulary/dimensions.ts";
import type { Coefficients, Costing } from "./hypothetical.ts";

/**
 * The compound-scaling audit (Tan & Le 2019, section 3.3): FLOPS of a ConvNet grow as
 * d·w²·r², so with d = α^φ, w = β^φ, r = γ^φ and α·β²·γ² ≈ 2 they grow about 2^φ.
 * Built networks do not follow that law exactly, and the released B1–B7 are not even on
 * the α^φ, β^φ, γ^φ curve. This module measures by how much, and why.
 *
 * All deviations are in log₂ units ("doublings", the unit of φ in the 2^φ law):
 *
 *   deviation = log₂(MACs_v / MACs_0) − φ
 *
 * where MACs_0 is the baseline (width 1, depth 1, the spec's input resolution) and φ is
 * the variant's declared φ, or for a variant given by explicit coefficients the φ they
 * amount to: the φ with (α·β²·γ²)^φ = d·w²·(r/r₀)², a weighted mean of the three
 * implied φ with weights ln α, 2 ln β, 2 ln γ.
 *
 * The deviation is split into one contribution per dimension that sum to it exactly,
 * by a Shapley decomposition of log₂(MACs_v / MACs_0): the symmetric average, over the
 * 3! orders of switching depth, width and resolution from the baseline's value to the
 * variant's, of the change in log₂ MACs that switching that dimension causes. Unlike a
 * fixed order, it does not favour whichever dimension goes first (the dimensions
 * interact: wider layers at a higher resolution cost more than either alone). Each
 * dimension's contribution is then its Shapley share minus its share of φ (ln α, 2 ln β,
 * 2 ln γ over ln(α·β²·γ²)), and it splits in two:
 * - rounding: log₂(realized cost factor / nominal cost factor), what rounding the
 *   dimension (ceil of repeats, multiples of 8, resolution to a multiple of 8 and
 *   strided halving) and the network parts that dimension does not scale (the fixed stem
 *   and head, depthwise convolutions and the classifier that are linear in width, the
 *   classifier that ignores resolution) make of the coefficient;
 * - coefficient: log₂(nominal cost factor) − the dimension's share of φ, the coefficient's
 *   departure from the compound rule (zero for every dimension of a φ variant except for
 *   the α·β²·γ² ≠ 2 gap, which the three dimensions share in proportion).
 * Nominal cost factors are d, w² and (r/r₀)² (for a φ variant γ^2φ, so that rounding its
 * resolution counts as rounding).
 */
type Dimension = ScalingDimension;
const DIMENSIONS = SCALING_DIMENSION_NAMES;
// How FLOPS grow with each coefficient: d, w², r² (section 3.1, "FLOPS … proportional to d, w², r²").
const FLOPS_EXPONENT = (d: Dimension) => SCALING_DIMENSIONS[d].flopsExponent;

export interface DimensionAudit {
  /** The coefficient as declared: d, w, or r / r₀ (γ^φ unrounded for a φ variant). */
  readonly coefficient: number;
  /** φ this coefficient alone implies: log d / log α, log w / log β, log(r/r₀) / log γ. */
  readonly impliedPhi: number | null;
  /** d, w², (r/r₀)²: what the cost would grow by if it followed the coefficient exactly. */
  readonly nominalCostFactor: number;
  /** 2^(Shapley share): what this dimension actually multiplies the MACs by. */
  readonly realizedCostFactor: number;
  /** This dimension's share of φ (ln α, 2 ln β or 2 ln γ over ln(α·β²·γ²)), in doublings. */
  readonly targetDoublings: number;
  /** realized − target, in doublings; the three sum to the variant's deviation. */
  readonly contribution: number;
  readonly rounding: number;
  readonly coefficientPart: number;
}

export interface CompoundAudit {
  /** The φ the audit compares with: declared, or implied by the coefficients. */
  readonly phi: number;
  readonly phiSource: "declared" | "implied";
  readonly macsRatio: number;
  /** 2^φ: the ratio the law predicts. */
  readonly lawRatio: number;
  /** log₂(macsRatio) − φ. */
  readonly deviation: number;
  readonly dimensions: Readonly<Record<Dimension, DimensionAudit>>;
}

interface CompoundRule {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

const base = (c: CompoundRule): Record<Dimension, number> => ({ depth: c.alpha, width: c.beta, resolution: c.gamma });

/** The baseline network of a spec: the stage table as written. */
export function baselineCoefficients(spec: Spec): Coefficients {
  return { width: 1, depth: 1, resolution: spec.input.height };
}

/** Shapley weights for three players: |S|!(n−|S|−1)!/n! for a coalition S not containing the player. */
const SHAPLEY_WEIGHT = [2 / 6, 1 / 6, 2 / 6];

export function compoundAudit(spec: Spec, variant: Variant, costing: Costing): CompoundAudit | null {
  const rule = spec.scaling.compound;
  if (!rule) return null;
  const r0 = spec.input.height;
  const declared: Record<Dimension, number> = {
    depth: variant.depth,
    width: variant.width,
    resolution: variant.phi !== undefined ? rule.gamma ** variant.phi : variant.resolution / r0,
  };
  const bases = base(rule);
  const logCompound = DIMENSIONS.reduce((s, d) => s + FLOPS_EXPONENT(d) * Math.log(bases[d]), 0);
  const phiImplied = DIMENSIONS.reduce((s, d) => s + FLOPS_EXPONENT(d) * Math.log(declared[d]), 0) / logCompound;
  const phi = variant.phi ?? phiImplied;

  // v(S): log₂ MACs with the dimensions in S at the variant's built values, the others at the baseline's.
  const baseline = baselineCoefficients(spec);
  const built: Coefficients = { width: variant.width, depth: variant.depth, resolution: variant.resolution };
  // Every mix of the variant's and the baseline's coefficients must be a network of the stage
  // table: one that is not (a variant whose overrides fix a stage's channels at a width that
  // scales the table's stage to none, EFF3002: found by the fuzzer) leaves nothing to split.
  const values: number[] = [];
  for (let mask = 0; mask < 8; mask++) {
    const c: Coefficients = {
      depth: mask & 1 ? built.depth : baseline.depth,
      width: mask & 2 ? built.width : baseline.width,
      resolution: mask & 4 ? built.resolution : baseline.resolution,
    };
    const screened = costing.screen(c, { allowHuge: true, learnable: false });
    if (!screened.ok || !(screened.totals.macs > 0)) return null;
    values.push(Math.log2(screened.totals.macs));
  }
  const value = (mask: number): number => values[mask];
  const shapley = (bit: number): number => {
    let sum = 0;
    for (let mask = 0; mask < 8; mask++) {
      if (mask & bit) continue;
      const size = (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
      sum += SHAPLEY_WEIGHT[size] * (value(mask | bit) - value(mask));
    }
    return sum;
  };
  const bits: Record<Dimension, number> = { depth: 1, width: 2, resolution: 4 };
  const log2Ratio = value(7) - value(0);

  const dimensions = Object.fromEntries(
    DIMENSIONS.map((d) => {
      const share = shapley(bits[d]);
      const nominal = declared[d] ** FLOPS_EXPONENT(d);
      const target = (phi * FLOPS_EXPONENT(d) * Math.log(bases[d])) / logCompound;
      const audit: DimensionAudit = {
        coefficient: declared[d],
        impliedPhi: bases[d] === 1 ? null : Math.log(declared[d]) / Math.log(bases[d]),
        nominalCostFactor: nominal,
        realizedCostFactor: 2 ** share,
        targetDoublings: target,
        contribution: share - target,
        rounding: share - Math.log2(nominal),
        coefficientPart: Math.log2(nominal) - target,
      };
      return [d, audit];
    }),
  ) as Record<Dimension, DimensionAudit>;

  const result: CompoundAudit = {
    phi,
    phiSource: variant.phi !== undefined ? "declared" : "implied",
    macsRatio: 2 ** log2Ratio,
    lawRatio: 2 ** phi,
    deviation: log2Ratio - phi,
    dimensions,
  };
  // A coefficient so far from 1 (depth 1e-308) that 2^φ or a cost factor leaves the range
  // of doubles has no audit to give: none, rather than a ratio of 0 or a log of infinity.
  const factors = [
    result.macsRatio,
    result.lawRatio,
    ...Object.values(dimensions).flatMap((a) => [a.nominalCostFactor, a.realizedCostFactor]),
  ];
  const numbers = [
    result.phi,
    result.deviation,
    ...Object.values(dimensions).flatMap((a) => [
      a.contribution,
      a.rounding,
      a.coefficientPart,
      a.targetDoublings,
      a.coefficient,
      a.impliedPhi ?? 0,
    ]),
  ];
  return factors.every((f) => f > 0 && Number.isFinite(f)) && numbers.every(Number.isFinite) ? result : null;
}
