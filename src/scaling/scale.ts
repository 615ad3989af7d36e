import type { SizeProblem } from "../diagnostics/codes.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { spatial } from "../ir/builder.ts";
import { variantSpec } from "../semantics/overrides.ts";
import { scalingPlan } from "../semantics/scaling.ts";
import type { Spec, Stage, Variant } from "../semantics/spec.ts";
import { applyRounding, fixed, ROUNDING_PRESETS, scaleAndRound, type Rounded } from "../vocabulary/rounding.ts";

/** One row of the scaled stage table: Table 1 for this variant, every number with its provenance. */
export interface ScaledStage {
  readonly stage: Stage;
  readonly channels: Rounded;
  readonly layers: Rounded;
  /** The Expanded column's width, scaled by the width rule as the channels are (absent without one). */
  readonly expanded?: Rounded;
  /** The classifier's hidden dense layer's units, scaled by the rounding preset's rule (absent without one). */
  readonly hidden?: Rounded;
  /** Actual spatial size entering and leaving the stage at this variant's resolution. */
  readonly inputResolution: { readonly height: number; readonly width: number };
  readonly outputResolution: { readonly height: number; readonly width: number };
}

export interface ScaledNetwork {
  readonly spec: Spec;
  readonly variant: Variant;
  readonly input: { readonly height: number; readonly width: number; readonly channels: number };
  readonly stages: readonly ScaledStage[];
}

/**
 * Sizes past which a variant is refused unless the user insists (`--allow-huge`): past
 * them a model takes minutes to lower and gigabytes to build, which is never what a typo
 * in φ meant. Parameters, MACs and TensorFlow.js layers are checked after lowering or
 * costing (src/compile.ts costLimits).
 *
 * `tfjsLayers`, the layers of the generated model: tfjs-layers builds a model's graph by a
 * recursion per layer (Container's buildMapOfGraph, @tensorflow/tfjs-layers 4.22), and
 * `buildModel()` of chains of MBConv6 blocks overflowed Node 20's stack at 6,730, 6,964
 * and 9,988 layers and built at 5,612 and 5,717, measured 2026-12-01 on the modules
 * `effnet compile --allow-huge` wrote for them. The deepest shipped variant has 1,305
 * (EfficientNet-L2); a ResNet-1202 would have about 4,200.
 */
export const SIZE_LIMITS = {
  layers: 2_000,
  tfjsLayers: 5_000,
  resolution: 4_096,
  channels: 65_536,
  params: 1e9,
  macs: 1e12,
} as const;

/**
 * Sizes no variant is built past, `--allow-huge` or not: beyond them lowering alone would
 * run for hours or exhaust the heap (a φ of 1e308 once hung `audit --allow-huge`).
 */
export const BUILD_LIMITS = {
  layers: 100_000,
  resolution: 65_536,
  channels: 1_048_576,
} as const;

export interface ScaleOptions {
  readonly allowHuge?: boolean;
}

/**
 * Compound scaling of the baseline stage table for one variant (section 3.3): repeats
 * × depth coefficient, channels × width coefficient, each rounded by the spec's declared
 * rule; the head is never repeated; stages the spec fixes keep their numbers; the head's
 * width follows the spec's rounding preset (`rounding keras|torchvision`).
 */
export function scale(
  file: Spec,
  variant: Variant,
  options: ScaleOptions = {},
): { network?: ScaledNetwork; diagnostics: Diagnostic[] } {
  // The variant's own stage table where its overrides set cells; the network carries it as its spec.
  const spec = variantSpec(file, variant);
  const { depth, width } = spec.scaling;
  const height = variant.resolution;
  const inputWidth = Math.round((variant.resolution * spec.input.width) / spec.input.height);
  let current = { height, width: inputWidth };
  const stages: ScaledStage[] = [];
  const plan = scalingPlanOf(spec);
  spec.stages.forEach((stage, i) => {
    const previous = stages[stages.length - 1];
    const rule = plan[i];
    const channels =
      rule.channels === "previous"
        ? fixed(
            previous.channels.value,
            `stage ${previous.stage.index}'s: ${stage.operator.name} keeps its input's channels`,
          )
        : rule.channels === "fixed"
          ? fixed(stage.channels, `stage ${stage.index} is fixed`)
          : rule.channels === "head"
            ? ROUNDING_PRESETS[spec.rounding].head(stage.channels, variant.width, width.rule, {
                stage: previous.stage.index,
                base: previous.stage.channels,
                rounded: previous.channels,
              })
            : scaleAndRound(stage.channels, variant.width, width.rule);
    const layers =
      rule.layers === "head"
        ? fixed(stage.layers, "the head is not repeated")
        : rule.layers === "fixed"
          ? fixed(stage.layers, `stage ${stage.index} is fixed`)
          : rule.layers === "stem"
            ? fixed(stage.layers, "the stem is not repeated; `scale stages N` repeats it")
            : scaleAndRound(stage.layers, variant.depth, depth.rule);
    const inputResolution = current;
    current = {
      height: spatial(current.height, 1, stage.stride, "same"),
      width: spatial(current.width, 1, stage.stride, "same"),
    };
    const expanded =
      stage.params.expandedWidth !== undefined
        ? scaleAndRound(stage.params.expandedWidth, variant.width, width.rule)
        : undefined;
    // The classifier's hidden dense layer (`FC 1280`) by the rounding preset's rule, fixed with its stage.
    const hidden =
      stage.params.hidden === undefined
        ? undefined
        : rule.channels === "fixed"
          ? fixed(stage.params.hidden, `stage ${stage.index} is fixed`)
          : ROUNDING_PRESETS[spec.rounding].hidden(stage.params.hidden, variant.width, width.rule);
    // A number a variant's override set says where it came from.
    const from = (column: string, r: Rounded): Rounded =>
      stage.overridden?.includes(column) ? { ...r, provenance: `${r.provenance}, ${variant.name}'s override` } : r;
    stages.push({
      stage,
      channels: from("Channels", channels),
      layers: from("Layers", layers),
      ...(expanded ? { expanded } : {}),
      ...(hidden ? { hidden } : {}),
      inputResolution,
      outputResolution: current,
    });
  });
  const diagnostics: Diagnostic[] = [];
  // Rounding small coefficients down (`round floor`, `round nearest`, `keep 0`) can leave a
  // stage with no layers or a layer with no filters; the network would silently lose it.
  const vanished = stages.flatMap((s) =>
    (["layers", "channels"] as const)
      .filter((measure) => s[measure].value < 1)
      .map((measure) => ({ stage: s.stage.index, measure, ...s[measure] })),
  );
  if (vanished.length) {
    diagnostics.push(
      diagnostic("EFF3002", { variant: variant.name, stages: vanished }, variant.span, {
        help: "use a rounding rule that keeps at least one (`round ceil`, `round multiple 8`), fix the stage (`fixed stages …`), or a larger coefficient",
      }),
    );
    return { diagnostics };
  }
  // What an operator cannot build at the channels rounding gave it (a grouped convolution
  // whose channels do not divide by its groups), at the stage's operator cell.
  const unsplittable = stages.flatMap((s, i) => {
    const inChannels = i === 0 ? spec.input.channels : stages[i - 1].channels.value;
    const why = s.stage.operator.unbuildable?.(s.stage.params, inChannels, s.channels.value);
    return why
      ? [diagnostic("EFF3005", { variant: variant.name, stage: s.stage.index, ...why }, s.stage.spans.operator)]
      : [];
  });
  if (unsplittable.length) return { diagnostics: unsplittable };
  const shape = {
    height,
    width: inputWidth,
    channels: stages.map((s) => s.channels.value),
    layers: stages.map((s) => s.layers.value),
  };
  const over = (limits: SizeLimits) => sizeProblems(spec, shape, limits);
  const coefficients = `depth ${fmtCoefficient(variant.depth)}, width ${fmtCoefficient(variant.width)}, resolution ${pixels(variant.resolution)}${variant.phi !== undefined ? ` from φ = ${variant.phi}` : ""}`;
  const unbuildable = over(BUILD_LIMITS);
  if (unbuildable.length) {
    diagnostics.push(
      diagnostic("EFF3003", { variant: variant.name, problems: unbuildable }, variant.span, {
        help: coefficients,
      }),
    );
    return { diagnostics };
  }
  const huge = options.allowHuge ? [] : over(SIZE_LIMITS);
  if (huge.length) {
    diagnostics.push(
      diagnostic("EFF3001", { variant: variant.name, problems: huge }, variant.span, {
        help: `${coefficients}; pass --allow-huge if you mean it`,
      }),
    );
    return { diagnostics };
  }
  return {
    network: { spec, variant, input: { height, width: inputWidth, channels: spec.input.channels }, stages },
    diagnostics,
  };
}

type SizeLimits = { readonly layers: number; readonly resolution: number; readonly channels: number };

/** What of a scaled network is past the limits (SIZE_LIMITS or BUILD_LIMITS), the data of EFF3001/EFF3003/EFF3004. */
export function sizeProblems(spec: Spec, shape: ScaledShape, limits: SizeLimits): SizeProblem[] {
  let totalLayers = 0;
  let widest = -Infinity;
  for (let i = 0; i < shape.layers.length; i++) {
    totalLayers += shape.layers[i];
    widest = Math.max(widest, shape.channels[i] * Math.max(1, spec.stages[i].params.expand));
  }
  const problems: SizeProblem[] = [];
  if (!(totalLayers <= limits.layers))
    problems.push({ measure: "layers", value: count(totalLayers), limit: count(limits.layers) });
  if (!(Math.max(shape.height, shape.width) <= limits.resolution))
    problems.push({
      measure: "input",
      value: `${pixels(shape.height)}×${pixels(shape.width)}`,
      limit: count(limits.resolution),
    });
  if (!(widest <= limits.channels))
    problems.push({ measure: "channels", value: count(widest), limit: count(limits.channels) });
  return problems;
}

/** The plan of the spec's stage table (src/semantics/scaling.ts), shared by scale() and scaledShape(). */
const scalingPlanOf = (spec: Spec) => scalingPlan(spec.stages, spec.scaling);

/** A scaled stage table as bare numbers: what a design-space search costs, without provenance. */
export interface ScaledShape {
  readonly height: number;
  readonly width: number;
  readonly channels: readonly number[];
  readonly layers: readonly number[];
}

/**
 * scale()'s numbers without its explanations or checks, for searches that cost hundreds of
 * thousands of configurations (src/cost/totals.ts): the same plan and the same rounding
 * functions, so a test can hold the two equal. `resolution` is the rounded input height.
 */
export function scaledShape(spec: Spec, width: number, depth: number, resolution: number): ScaledShape {
  const plan = scalingPlanOf(spec);
  const widthRule = spec.scaling.width.rule;
  const depthRule = spec.scaling.depth.rule;
  const head = ROUNDING_PRESETS[spec.rounding].headValue;
  const channels: number[] = [];
  const layers: number[] = [];
  for (let i = 0; i < plan.length; i++) {
    const stage = spec.stages[i];
    const rule = plan[i];
    channels.push(
      rule.channels === "previous"
        ? channels[i - 1]
        : rule.channels === "fixed"
          ? stage.channels
          : rule.channels === "head"
            ? head(stage.channels, width, widthRule, { base: spec.stages[i - 1].channels, value: channels[i - 1] })
            : applyRounding(stage.channels * width, widthRule),
    );
    layers.push(rule.layers === "scaled" ? applyRounding(stage.layers * depth, depthRule) : stage.layers);
  }
  return {
    height: resolution,
    width: Math.round((resolution * spec.input.width) / spec.input.height),
    channels,
    layers,
  };
}

function fmtCoefficient(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : "∞";
}

/** 1,234,567; ∞ for what overflowed. */
const count = (n: number) => (Number.isFinite(n) ? n.toLocaleString("en-US") : "∞");
/** Pixel sizes as specs write them (8568, not 8,568); ∞ for what overflowed. */
const pixels = (n: number) => (Number.isFinite(n) ? String(n) : "∞");
