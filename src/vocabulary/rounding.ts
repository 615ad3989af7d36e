/**
 * The one table of rounding rules. A spec declares, per scaled dimension, which rule
 * applies (`round ceil`, `round multiple 8 keep 0.9`); each rounded number in a report
 * carries the sentence that explains it.
 *
 * The reference implementations' rules (Keras applications/efficientnet.py, TF TPU
 * efficientnet_builder.py, torchvision _make_divisible):
 *   round_repeats(r) = int(math.ceil(depth_coefficient * r))
 *   round_filters(f): f *= width_coefficient
 *                     new = max(divisor, int(f + divisor / 2) // divisor * divisor)
 *                     if new < 0.9 * f: new += divisor
 * The float operations below are the same ones in the same order, so they give the
 * reference's results bit for bit (IEEE doubles in both languages).
 */
export type RoundingRule =
  | { readonly kind: "ceil" }
  | { readonly kind: "floor" }
  | { readonly kind: "nearest" }
  | { readonly kind: "multiple"; readonly divisor: number; readonly keep?: number };

export type RoundingKind = RoundingRule["kind"];

interface RoundingDef<R extends RoundingRule> {
  readonly syntax: string;
  readonly apply: (scaled: number, rule: R) => number;
  readonly describe: (rule: R) => string;
}

type RoundingTable = { readonly [K in RoundingKind]: RoundingDef<Extract<RoundingRule, { kind: K }>> };

export const ROUNDING_RULES: RoundingTable = {
  ceil: { syntax: "round ceil", apply: (x) => Math.ceil(x), describe: () => "ceil" },
  floor: { syntax: "round floor", apply: (x) => Math.floor(x), describe: () => "floor" },
  // Halves go up (floor(x + 0.5)); Python's round() would go to even, no reference uses it here.
  nearest: { syntax: "round nearest", apply: (x) => Math.floor(x + 0.5), describe: () => "nearest" },
  multiple: {
    syntax: "round multiple N [keep R]",
    apply: (x, r) => {
      let rounded = Math.max(r.divisor, Math.floor(Math.floor(x + r.divisor / 2) / r.divisor) * r.divisor);
      if (r.keep !== undefined && rounded < r.keep * x) rounded += r.divisor;
      return rounded;
    },
    describe: (r) => `multiple of ${r.divisor}${r.keep !== undefined ? `, ≥ ${fmt(r.keep * 100)}%` : ""}`,
  },
};

export function applyRounding(scaled: number, rule: RoundingRule): number {
  return (ROUNDING_RULES[rule.kind].apply as (x: number, r: RoundingRule) => number)(scaled, rule);
}

export function describeRounding(rule: RoundingRule): string {
  return (ROUNDING_RULES[rule.kind].describe as (r: RoundingRule) => string)(rule);
}

/** A scaled and rounded number with the sentence that explains it. */
export interface Rounded {
  readonly value: number;
  readonly base: number;
  readonly coefficient: number;
  /** base × coefficient before rounding. */
  readonly scaled: number;
  /** e.g. `112 × 1.1 = 123.2 → 120 (multiple of 8, ≥ 90%)`, or `32 (fixed)`. */
  readonly provenance: string;
}

export function scaleAndRound(base: number, coefficient: number, rule: RoundingRule): Rounded {
  const scaled = base * coefficient;
  const value = applyRounding(scaled, rule);
  return {
    value,
    base,
    coefficient,
    scaled,
    provenance: `${base} × ${fmt(coefficient)} = ${fmt(scaled)} → ${value} (${describeRounding(rule)})`,
  };
}

export function fixed(base: number, why: string): Rounded {
  return { value: base, base, coefficient: 1, scaled: base, provenance: `${base} (${why})` };
}

/** Short decimal form for explanations: 123.20000000000002 prints as 123.2. */
export function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/**
 * Named rounding conventions, for where the reference implementations disagree. They
 * share every rule above and differ on one number, the head's width (Table 1's stage 9):
 * - `keras`: TF TPU efficientnet_builder.py, Keras applications/efficientnet.py and timm
 *   (`round_chs_fn(1280)`) round the head's own channels by the width rule:
 *   round8(1280 · w).
 * - `torchvision`: models/efficientnet.py ties the head to the last stage,
 *   `lastconv_output_channels = 4 * lastconv_input_channels`: 4 × round8(320 · w).
 * - `mobilenet`: MobileNetV2 in torchvision and Keras: the head's own channels by the width
 *   rule, but never below the baseline's: round8(1280 · max(1, w)).
 * Each preset also says how a hidden dense layer before the classifier (MobileNetV3's
 * `& FC 1280 & FC`) scales with the width:
 * - `keras` and `torchvision`: by the width rule, as torchvision's mobilenetv3.py does
 *   (last_channel = adjust_channels(1280 // reduce_divider) = _make_divisible(1280 · w, 8));
 *   no Keras EfficientNet has a hidden layer, so `keras` takes the width rule too, as its head.
 * - `mobilenet`: never below the baseline's, as Keras's mobilenet_v3.py does (`if alpha > 1.0:
 *   last_point_ch = _depth(last_point_ch * alpha)`), round8(1280 · max(1, w)).
 * The first two agree for B0–B7 (w = 1.0 … 2.0) and disagree for most other widths (280 of the
 * 351 widths 0.50, 0.51 … 4.00; w = 0.51: 656 vs 640, w = 1.1^8: 2744 vs 2752), which is
 * why a report names the one it used.
 */
export interface RoundingPreset {
  /** Where the convention comes from, for reports. */
  readonly source: string;
  /** The head's channels alone, for searches that cost without provenance (scaledShape). */
  readonly headValue: (
    base: number,
    coefficient: number,
    rule: RoundingRule,
    previous: { readonly base: number; readonly value: number },
  ) => number;
  /** The head's channels given its baseline and the (already rounded) stage before it. */
  readonly head: (
    base: number,
    coefficient: number,
    rule: RoundingRule,
    previous: { readonly stage: number; readonly base: number; readonly rounded: Rounded },
  ) => Rounded;
  /** A hidden dense layer's units (the classifier's `FC 1280`) given its baseline. */
  readonly hidden: (base: number, coefficient: number, rule: RoundingRule) => Rounded;
}

/** torchvision's head: the baseline's head-to-last-stage ratio times the last stage's rounded channels. */
const tiedHead = (base: number, previousBase: number, previousValue: number) =>
  Math.round((base / previousBase) * previousValue);

/** Scaled by the width rule, but never narrower than the baseline: round(base × max(1, w)). */
function neverNarrower(what: string) {
  return (base: number, coefficient: number, rule: RoundingRule): Rounded =>
    coefficient >= 1
      ? scaleAndRound(base, coefficient, rule)
      : {
          value: base,
          base,
          coefficient,
          scaled: base,
          provenance: `${base} (max(1, w): ${what} keeps its width below w = 1)`,
        };
}

export const ROUNDING_PRESETS = {
  keras: {
    source:
      "TF TPU efficientnet_builder.py, Keras applications/efficientnet.py, timm: head = round(1280 × w) by the width rule; a hidden dense layer the same",
    headValue: (base, coefficient, rule) => applyRounding(base * coefficient, rule),
    head: (base, coefficient, rule) => scaleAndRound(base, coefficient, rule),
    hidden: scaleAndRound,
  },
  torchvision: {
    source:
      "torchvision models/efficientnet.py: head = 4 × the last stage's rounded channels (lastconv_output_channels = 4 * lastconv_input_channels); a hidden dense layer by the width rule (mobilenetv3.py: last_channel = adjust_channels(1280))",
    // The baseline's own ratio (1280 / 320 = 4 for EfficientNet and MobileNetV2) times the rounded stage before.
    headValue: (base, _coefficient, _rule, previous) => tiedHead(base, previous.base, previous.value),
    head: (base, coefficient, rule, previous) => {
      const ratio = base / previous.base;
      const value = tiedHead(base, previous.base, previous.rounded.value);
      return {
        value,
        base,
        coefficient,
        scaled: base * coefficient,
        provenance: `${fmt(ratio)} × ${previous.rounded.value} = ${value} (torchvision: ${fmt(ratio)} × stage ${previous.stage}'s channels)`,
      };
    },
    // mobilenetv3.py: last_channel = adjust_channels(1280 // reduce_divider), width_mult's _make_divisible.
    hidden: scaleAndRound,
  },
  mobilenet: {
    source:
      "torchvision models/mobilenetv2.py: last_channel = _make_divisible(1280 * max(1.0, width_mult), 8); Keras applications/mobilenet_v2.py: 1280 unless alpha > 1: head = round(1280 × max(1, w)) by the width rule; a hidden dense layer the same (Keras mobilenet_v3.py's last_point_ch)",
    // The head never narrows below its baseline: a thin MobileNetV2 keeps its 1280 features.
    headValue: (base, coefficient, rule) => applyRounding(base * Math.max(1, coefficient), rule),
    head: neverNarrower("the head"),
    // Keras mobilenet_v3.py: `if alpha > 1.0: last_point_ch = _depth(last_point_ch * alpha)`.
    hidden: neverNarrower("the hidden layer"),
  },
} as const satisfies Record<string, RoundingPreset>;

export type RoundingPresetName = keyof typeof ROUNDING_PRESETS;
