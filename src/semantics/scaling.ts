import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { joinSpans, type Span } from "../diagnostics/source.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import { applyRounding, fmt, ROUNDING_RULES, type RoundingKind, type RoundingRule } from "../vocabulary/rounding.ts";
import type { Entry } from "../syntax/ast.ts";
import { dimensionOf, SCALING_DIMENSIONS, type Coefficient, type ScalingDimension } from "../vocabulary/dimensions.ts";
import type { DimensionRule, Scaling, Stage } from "./spec.ts";
import { ArgReader } from "./values.ts";

/**
 * The reference rules, used when a spec has no scaling block or leaves a dimension out:
 * Keras/TF round_repeats (ceil) and round_filters (multiple of 8, keep ≥ 90%).
 * Resolutions of φ-derived variants go to the nearest multiple of 8 by default.
 */
export const REFERENCE_SCALING: Scaling = {
  depth: { rule: { kind: "ceil" }, fixedStages: [] },
  width: { rule: { kind: "multiple", divisor: 8, keep: 0.9 }, fixedStages: [] },
  resolution: { rule: { kind: "multiple", divisor: 8 }, fixedStages: [] },
};

const COEFFICIENT_NAMES: Record<string, Coefficient> = {
  alpha: "alpha",
  α: "alpha",
  beta: "beta",
  β: "beta",
  gamma: "gamma",
  γ: "gamma",
};

const SCALING_KEYS = [...Object.keys(SCALING_DIMENSIONS), "require"];

/**
 * What a `scaling { … }` block may say, for grammar/vocabulary.md and the editor grammar's
 * keywords; checkScaling below reads these words. One entry per word.
 */
export const SCALING_VOCABULARY: readonly {
  readonly word: string;
  readonly syntax: string;
  readonly summary: string;
}[] = [
  {
    word: "compound",
    syntax: "scaling compound { … }",
    summary: "the coefficients α, β, γ are compound scaling's; `require` checks them",
  },
  {
    word: "depth",
    syntax: "depth alpha 1.2 round ceil",
    summary: "how layers scale: coefficient α (per variant: its Depth), then the rounding rule",
  },
  {
    word: "width",
    syntax: "width beta 1.1 round multiple 8 keep 0.9",
    summary: "how channels scale: coefficient β (per variant: its Width), then the rounding rule",
  },
  {
    word: "resolution",
    syntax: "resolution gamma 1.15 round multiple 8",
    summary: "how the input resolution scales (per variant: its Resolution)",
  },
  { word: "round", syntax: "round ceil", summary: "the rounding rule (table below)" },
  {
    word: "keep",
    syntax: "round multiple 8 keep 0.9",
    summary: "never round below this fraction of the unrounded value (add one divisor then)",
  },
  { word: "fixed", syntax: "fixed stages 1, 9", summary: "stages this dimension does not scale" },
  {
    word: "scale",
    syntax: "depth … scale stages 1",
    summary:
      "stem stages depth scaling repeats anyway: the stem (plain layers before the first block) and the head are otherwise fixed",
  },
  {
    word: "require",
    syntax: "require alpha * beta^2 * gamma^2 = 2 +- 0.1",
    summary:
      "a product of powers of α, β, γ the coefficients must equal, within `+-` its tolerance (EFF2031 outside it; EFF2032 when no tolerance and not exact)",
  },
  {
    word: "phi",
    syntax: "variant B8 phi 8",
    summary: "a variant from φ: depth α^φ, width β^φ, resolution rounded(input × γ^φ)",
  },
];

/**
 * `scaling compound { depth alpha 1.2 round ceil fixed stages 1, 9 … require
 * alpha * beta^2 * gamma^2 = 2 +- 0.1 }`.
 */
export function checkScaling(entry: Entry, stageCount: number | undefined, diagnostics: Diagnostic[]): Scaling {
  const reader = new ArgReader(entry.args, entry.key.span, "scaling", diagnostics);
  const compound = reader.acceptWord("compound") !== undefined;
  if (!compound && !reader.done) reader.expectName("`compound` (or nothing)", ["compound"]);
  const rules: Partial<Record<ScalingDimension, DimensionRule>> = {};
  const coefficients: Partial<Record<Coefficient, number>> = {};
  const coefficientSpans: Partial<Record<Coefficient, Span>> = {};
  let constraint: NonNullable<Scaling["compound"]>["constraint"];
  const seen = new Map<string, Span>();
  let unknownRule = false;
  for (const item of entry.block?.items ?? []) {
    if (item.kind === "row") {
      diagnostics.push(diagnostic("EFF2006", { name: "scaling" }, item.span));
      continue;
    }
    const key = item.key.text.toLowerCase();
    if (!SCALING_KEYS.includes(key)) {
      unknownRule = true;
      diagnostics.push(
        diagnostic("EFF2030", { rules: SCALING_KEYS, found: item.key.text }, item.key.span, {
          help: didYouMean(key, SCALING_KEYS),
        }),
      );
      continue;
    }
    if (seen.has(key)) {
      diagnostics.push(
        diagnostic("EFF2003", { name: key }, item.key.span, {
          related: [{ span: seen.get(key)!, message: "first set here" }],
        }),
      );
      continue;
    }
    seen.set(key, item.key.span);
    const args = new ArgReader(item.args, item.key.span, key, diagnostics);
    if (key === "require") {
      constraint = readConstraint(args, item);
      continue;
    }
    const dimension = SCALING_DIMENSIONS[key as ScalingDimension];
    let rule = REFERENCE_SCALING[key as ScalingDimension].rule;
    let fixedStages: number[] = [];
    let scaledStages: number[] = [];
    while (!args.done) {
      const word = args.peek()!;
      const lower = word.text.toLowerCase();
      if (COEFFICIENT_NAMES[word.text] === dimension.coefficient || lower === dimension.coefficient) {
        args.next();
        const value = args.expectNumber(`a number for ${dimension.coefficient}`, (x) => x > 0);
        if (value !== undefined) {
          coefficients[dimension.coefficient] = value;
          coefficientSpans[dimension.coefficient] = joinSpans(word.span, item.args[item.args.indexOf(word) + 1].span);
        }
      } else if (lower === "round") {
        args.next();
        rule = readRounding(args) ?? rule;
      } else if (lower === "fixed" || (lower === "scale" && key === "depth")) {
        // The stem and the head are fixed under depth scaling; `scale stages 1` repeats a stem stage anyway.
        args.next();
        args.acceptWord("stages", "stage");
        const listed = args.expectIntegerList("stage numbers, e.g. `1, 9`") ?? [];
        if (lower === "fixed") fixedStages = listed;
        else scaledStages = listed;
        const bad = listed.find((s) => stageCount !== undefined && s > stageCount);
        if (bad !== undefined)
          diagnostics.push(
            diagnostic("EFF2034", { stage: bad }, item.span, { help: `the stage table has ${stageCount} stages` }),
          );
      } else {
        args.fail(
          `\`${dimension.coefficient} N\`, \`round …\`, \`fixed stages …\`${key === "depth" ? " or `scale stages …`" : ""}`,
          didYouMean(lower, [dimension.coefficient, "round", "fixed", ...(key === "depth" ? ["scale"] : [])]),
        );
      }
    }
    rules[key as ScalingDimension] = {
      rule,
      fixedStages,
      ...(scaledStages.length ? { scaledStages } : {}),
      span: item.span,
    };
  }
  for (const [name, value] of Object.entries(coefficients)) {
    if (value < 1) {
      const greek = SCALING_DIMENSIONS[dimensionOf(name as Coefficient)].greek;
      diagnostics.push(
        diagnostic("EFF2033", { name: `${greek} (${name})`, value: fmt(value) }, coefficientSpans[name as "alpha"]!),
      );
    }
  }
  const result: Scaling = {
    depth: rules.depth ?? REFERENCE_SCALING.depth,
    width: rules.width ?? REFERENCE_SCALING.width,
    resolution: rules.resolution ?? REFERENCE_SCALING.resolution,
    span: entry.span,
  };
  if (!compound) return result;
  const missing = (["alpha", "beta", "gamma"] as const).filter((c) => coefficients[c] === undefined);
  if (missing.length) {
    if (unknownRule) return result; // the misspelt rule was probably the missing one
    diagnostics.push(
      diagnostic("EFF2005", { name: missing.join(", "), where: "`scaling compound`" }, entry.key.span, {
        help: "e.g. `depth alpha 1.2`, `width beta 1.1`, `resolution gamma 1.15`",
      }),
    );
    return result;
  }
  const alpha = coefficients.alpha!;
  const beta = coefficients.beta!;
  const gamma = coefficients.gamma!;
  if (constraint) checkConstraint({ alpha, beta, gamma }, constraint, diagnostics);
  // FLOPS grow as (α·β²·γ²)^φ (Tan & Le 2019, section 3.3): at 1 every φ is the baseline and the
  // implied φ of a variant is x/0; past float range every count overflows. Both are refused here.
  const growth = alpha * beta ** 2 * gamma ** 2;
  const belowOne = [alpha, beta, gamma].some((c) => c < 1); // EFF2033 already says so
  if (!belowOne && !(growth > 1 && Number.isFinite(growth)))
    diagnostics.push(
      diagnostic("EFF2035", { value: fmt(growth) }, entry.key.span, {
        help: "EfficientNet's grid search found α = 1.2, β = 1.1, γ = 1.15 (α·β²·γ² ≈ 2)",
      }),
    );
  return { ...result, compound: { alpha, beta, gamma, constraint } };
}

/** `round ceil`, `round floor`, `round nearest`, `round multiple 8 [keep 0.9]`. */
function readRounding(args: ArgReader): RoundingRule | undefined {
  const kinds = Object.keys(ROUNDING_RULES) as RoundingKind[];
  const word = args.expectName("a rounding rule", kinds);
  if (!word) return undefined;
  const kind = word.text.toLowerCase() as RoundingKind;
  if (kind !== "multiple") return { kind } as RoundingRule;
  const divisor = args.expectInteger("a divisor, e.g. `multiple 8`");
  if (divisor === undefined) return undefined;
  if (!args.acceptWord("keep")) return { kind, divisor };
  const keep = args.expectNumber("a ratio between 0 and 1 after `keep`", (x) => x > 0 && x <= 1);
  return keep === undefined ? undefined : { kind, divisor, keep };
}

type Constraint = NonNullable<NonNullable<Scaling["compound"]>["constraint"]>;

/** `alpha * beta^2 * gamma^2 = 2 +- 0.1`: a product of powers of α, β, γ, a target and a tolerance. */
function readConstraint(args: ArgReader, item: Entry): Constraint | undefined {
  const exponents = { alpha: 0, beta: 0, gamma: 0 };
  do {
    const name = args.expectName("`alpha`, `beta` or `gamma`", ["alpha", "beta", "gamma", "α", "β", "γ"]);
    if (!name) return undefined;
    let power = 1;
    if (args.accept("^")) {
      const p = args.expectNumber("an exponent after `^`");
      if (p === undefined) return undefined;
      power = p;
    }
    exponents[COEFFICIENT_NAMES[name.text.toLowerCase()] ?? COEFFICIENT_NAMES[name.text]] += power;
  } while (args.accept("*"));
  if (!args.accept("=")) return args.fail("`*` or `=`");
  const target = args.expectNumber("the target value, e.g. `= 2`", (x) => x > 0);
  if (target === undefined) return undefined;
  let tolerance: number | undefined;
  if (args.accept("+-") || args.accept("±")) {
    tolerance = args.expectNumber("a tolerance, e.g. `+- 0.1`", (x) => x >= 0);
    if (tolerance === undefined) return undefined;
  }
  args.expectEnd();
  return { exponents, target, tolerance, span: item.span };
}

export function constraintValue(
  c: { alpha: number; beta: number; gamma: number },
  exponents: Constraint["exponents"],
): number {
  return c.alpha ** exponents.alpha * c.beta ** exponents.beta * c.gamma ** exponents.gamma;
}

export function constraintText(exponents: Constraint["exponents"]): string {
  return (["alpha", "beta", "gamma"] as const)
    .filter((n) => exponents[n] !== 0)
    .map((n) => `${SCALING_DIMENSIONS[dimensionOf(n)].greek}${exponents[n] === 1 ? "" : `^${fmt(exponents[n])}`}`)
    .join("·");
}

/** Section 3.3: α·β²·γ² ≈ 2. Outside the tolerance is an error; without a tolerance, any difference warns. */
function checkConstraint(
  c: { alpha: number; beta: number; gamma: number },
  constraint: Constraint,
  diagnostics: Diagnostic[],
): void {
  const value = constraintValue(c, constraint.exponents);
  const expr = constraintText(constraint.exponents);
  const distance = Math.abs(value - constraint.target);
  if (constraint.tolerance !== undefined && distance > constraint.tolerance + 1e-12) {
    diagnostics.push(
      diagnostic(
        "EFF2031",
        { expr, value: fmt(value), target: fmt(constraint.target), tolerance: fmt(constraint.tolerance) },
        constraint.span,
        {
          help: "FLOPS grow by about (α·β²·γ²)^φ; adjust α, β, γ or the tolerance",
        },
      ),
    );
  } else if (constraint.tolerance === undefined && distance > 1e-9) {
    diagnostics.push(
      diagnostic("EFF2032", { expr, value: fmt(value), target: fmt(constraint.target) }, constraint.span, {
        help: "add a tolerance, e.g. `= 2 +- 0.1`",
      }),
    );
  }
}

/**
 * Section 3.3: a variant derived from φ has d = α^φ, w = β^φ and resolution
 * input × γ^φ rounded by the resolution rule. Used for `variant NAME phi N` and by
 * `effnet solve`, which must build exactly the networks the language would.
 */
export function phiCoefficients(
  scaling: Scaling,
  baseResolution: number,
  phi: number,
): { depth: number; width: number; resolution: number } | undefined {
  if (!scaling.compound) return undefined;
  const { alpha, beta, gamma } = scaling.compound;
  return {
    depth: alpha ** phi,
    width: beta ** phi,
    resolution: applyRounding(baseResolution * gamma ** phi, scaling.resolution.rule),
  };
}

/** Which rule gives a stage's channels and layers: decided once per stage table, shared by scaling and the overrides' checks. */
export interface StagePlan {
  readonly channels: "previous" | "fixed" | "head" | "scaled";
  readonly layers: "head" | "fixed" | "stem" | "scaled";
}

const plans = new WeakMap<readonly Stage[], WeakMap<Scaling, readonly StagePlan[]>>();

/**
 * Per stage, what scaling does to it: pooling keeps its input's channels, `fixed stages`
 * keep their numbers, the head's width follows the rounding preset, and the stem (the
 * plain layers before the first block, ResNet's conv and max pool, EfficientNet's conv)
 * and the head are not repeated unless `scale stages` says so.
 */
export function scalingPlan(stages: readonly Stage[], scaling: Scaling): readonly StagePlan[] {
  const byScaling = plans.get(stages) ?? new WeakMap<Scaling, readonly StagePlan[]>();
  plans.set(stages, byScaling);
  let plan = byScaling.get(scaling);
  if (!plan) {
    const { depth, width } = scaling;
    const firstBlock = stages.findIndex((s) => s.operator.role !== "layer");
    const isStem = (i: number) => stages[i].operator.role === "layer" && (firstBlock < 0 || i < firstBlock);
    plan = stages.map((stage, i) => ({
      channels:
        stage.operator.keepsChannels && i > 0
          ? "previous"
          : width.fixedStages.includes(stage.index)
            ? "fixed"
            : stage.operator.role === "head" && i > 0
              ? "head"
              : "scaled",
      layers:
        stage.operator.role === "head"
          ? "head"
          : depth.fixedStages.includes(stage.index)
            ? "fixed"
            : isStem(i) && !depth.scaledStages?.includes(stage.index)
              ? "stem"
              : "scaled",
    }));
    byScaling.set(scaling, plan);
  }
  return plan;
}
