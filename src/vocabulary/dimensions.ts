/**
 * The one table of the three scaling dimensions (the paper, section 3.2): the coefficient
 * that names each in a compound rule (`depth alpha 1.2`: d = α^φ), its Greek letter, and
 * the exponent with which the dimension multiplies FLOPS (a ConvNet's FLOPS grow as
 * d·w²·r², so α·β²·γ² ≈ 2 doubles them per unit of φ). Order: as the paper lists them.
 */
export const SCALING_DIMENSIONS = {
  depth: { coefficient: "alpha", greek: "α", flopsExponent: 1 },
  width: { coefficient: "beta", greek: "β", flopsExponent: 2 },
  resolution: { coefficient: "gamma", greek: "γ", flopsExponent: 2 },
} as const;

export type ScalingDimension = keyof typeof SCALING_DIMENSIONS;
export type Coefficient = (typeof SCALING_DIMENSIONS)[ScalingDimension]["coefficient"];

export const SCALING_DIMENSION_NAMES = Object.keys(SCALING_DIMENSIONS) as ScalingDimension[];

/** The dimension a coefficient scales: `alpha` → depth. */
export const dimensionOf = (coefficient: Coefficient): ScalingDimension =>
  SCALING_DIMENSION_NAMES.find((d) => SCALING_DIMENSIONS[d].coefficient === coefficient)!;
