import type { Dims, RepeatCostContext, Tally } from "../operators/table.ts";
import type { ScaledNetwork, ScaledShape } from "../scaling/scale.ts";
import { PREPROCESSING, type Preprocessing } from "../vocabulary/conventions.ts";
import type { Spec } from "../semantics/spec.ts";
import type { ParamCount } from "./cost.ts";

/**
 * The fast exact cost: parameters and MACs of a scaled network straight from its rounded
 * stage table, by each operator's closed form (src/operators/table.ts, `cost`), without
 * lowering to layers. The repeats of a stage after its first are identical (stride 1,
 * same channels in and out), so a stage costs two closed forms whatever its depth. It
 * gives the IR's figures exactly (test/cost/totals.test.ts, against cost(lower(…)) for the
 * shipped specs under both conventions and for random specs); what needs per-layer
 * figures, memory or elementwise work still walks the IR (src/cost/cost.ts).
 */
export interface CostTotals {
  readonly params: ParamCount;
  readonly macs: number;
  /** 2 × MACs, as cost() reports them. */
  readonly flops: number;
  /**
   * The first stage (its index) whose output has no rows or no columns: a padding that does
   * not keep every window on the map (Keras MobileNet's fixed ((0, 1), (0, 1)) on a 1-pixel
   * input) at a tiny resolution. EFF3006 refuses such a variant.
   */
  readonly emptyStage?: number;
}

/**
 * Whether every stage of the spec has a closed form that covers its parameters: an operator
 * with one, and none of the constructs whose closed forms are not written yet (grouped
 * convolution, MobileNetV3's expanded widths and hidden dense layer, a squeeze-excite rule
 * other than Keras's). Otherwise the caller takes the totals from the layer IR.
 */
export function closedFormCovers(spec: Spec): boolean {
  return spec.stages.every(
    (s) =>
      s.operator.cost !== undefined &&
      s.params.groups === 1 &&
      s.params.expandedWidth === undefined &&
      s.params.hidden === undefined &&
      (s.params.seRatio === 0 || (s.params.seRule.of === "input" && s.params.seRule.divisor === 1)),
  );
}

export function shapeTotals(spec: Spec, shape: ScaledShape): CostTotals {
  if (!closedFormCovers(spec))
    throw new Error("internal: shapeTotals on a spec without closed forms (closedFormCovers)");
  const t: Tally = { trainable: 0, nonTrainable: 0, macs: 0 };
  const channels = spec.input.channels;
  // Keras's Normalization keeps mean and variance per channel and a count: 2C + 1 stored values (7 for RGB).
  const pre: Preprocessing = PREPROCESSING[spec.preprocessing];
  if (pre.normalization?.stored) t.nonTrainable += 2 * channels + 1;
  let x: Dims = { height: shape.height, width: shape.width, channels };
  const repeat: Tally = { trainable: 0, nonTrainable: 0, macs: 0 };
  let emptyStage: number | undefined;
  for (let i = 0; i < spec.stages.length; i++) {
    const stage = spec.stages[i];
    const ctx: RepeatCostContext = {
      outChannels: shape.channels[i],
      strides: stage.stride,
      params: stage.params,
      classes: spec.classes,
      padding: spec.padding,
    };
    const cost = stage.operator.cost!;
    x = cost(t, x, ctx);
    const more = shape.layers[i] - 1;
    if (more > 0) {
      repeat.trainable = repeat.nonTrainable = repeat.macs = 0;
      x = cost(repeat, x, { ...ctx, strides: 1 });
      t.trainable += more * repeat.trainable;
      t.nonTrainable += more * repeat.nonTrainable;
      t.macs += more * repeat.macs;
    }
    if (emptyStage === undefined && (x.height < 1 || x.width < 1)) emptyStage = stage.index;
  }
  return {
    params: { total: t.trainable + t.nonTrainable, trainable: t.trainable, nonTrainable: t.nonTrainable },
    macs: t.macs,
    flops: 2 * t.macs,
    ...(emptyStage === undefined ? {} : { emptyStage }),
  };
}

/** The same totals for a network scale() built (its rounded numbers, its spec). */
export function networkTotals(network: ScaledNetwork): CostTotals {
  return shapeTotals(network.spec, {
    height: network.input.height,
    width: network.input.width,
    channels: network.stages.map((s) => s.channels.value),
    layers: network.stages.map((s) => s.layers.value),
  });
}
