import { buildVariant, mayBeTooDeep, type BuildOptions, type CompiledVariant } from "../compile.ts";
import { sizeProblem } from "../cost/budgets.ts";
import { closedFormCovers, shapeTotals, type CostTotals } from "../cost/totals.ts";
import { describeGroupsThatDoNotDivide, describeSizeProblems } from "../diagnostics/codes.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { BUILD_LIMITS, scaledShape, SIZE_LIMITS, sizeProblems, type ScaledShape } from "../scaling/scale.ts";
import type { Spec, Variant } from "../semantics/spec.ts";

/** Width, depth and resolution of a network that no spec names: a point the audit, `solve` or `search` asks about. */
export interface Coefficients {
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
}

/** A synthetic variant, for the one variant pipeline (compile.ts, buildVariant) that declared ones go through. */
export function hypotheticalVariant(spec: Spec, name: string, c: Coefficients, phi?: number): Variant {
  return {
    name,
    span: spec.nameSpan,
    width: c.width,
    depth: c.depth,
    resolution: c.resolution,
    dropout: spec.dropout,
    reported: {},
    ...(phi === undefined ? {} : { phi }),
  };
}

/** A candidate's rounded stage table and exact totals, or why the pipeline would refuse it. */
export type Screened =
  | { readonly ok: true; readonly shape: ScaledShape; readonly totals: CostTotals }
  | {
      readonly ok: false;
      readonly code: "EFF3001" | "EFF3002" | "EFF3003" | "EFF3005" | "EFF4002";
      readonly why: string;
    };

/**
 * Costs what-if configurations of one spec. Totals (parameters, MACs) come from the fast
 * exact cost (src/cost/totals.ts) with buildVariant's limits screened on the bare numbers;
 * whole networks (layers, memory, stage tables) go through buildVariant, with lowered
 * networks shared by shape, since rounding maps many coefficients onto one network.
 */
export class Costing {
  private readonly cache: NonNullable<BuildOptions["cache"]> = new Map();

  constructor(readonly spec: Spec) {}

  /** Distinct networks lowered so far (the fast totals lower none). */
  get networksBuilt(): number {
    return this.cache.size;
  }

  /** The variant through the one pipeline, lowered once per shape. */
  build(
    variant: Variant,
    options: { allowHuge?: boolean; spec?: Spec } = {},
  ): {
    compiled?: CompiledVariant;
    diagnostics: Diagnostic[];
  } {
    return buildVariant(options.spec ?? this.spec, variant, { allowHuge: options.allowHuge, cache: this.cache });
  }

  /**
   * The rounded stage table and exact totals of a configuration, screened by the same
   * limits buildVariant applies (EFF3002 degenerate stages, EFF3003/EFF3001 sizes, EFF4002
   * nothing to learn); budgets are the caller's.
   */
  screen(c: Coefficients, options: { allowHuge?: boolean; spec?: Spec; learnable?: boolean } = {}): Screened {
    const spec = options.spec ?? this.spec;
    const shape = scaledShape(spec, c.width, c.depth, c.resolution);
    if (shape.channels.some((n) => n < 1) || shape.layers.some((n) => n < 1))
      return { ok: false, code: "EFF3002", why: "a stage rounds to no layers or no channels" };
    const unsplittable = spec.stages
      .map((s, i) =>
        s.operator.unbuildable?.(s.params, i === 0 ? spec.input.channels : shape.channels[i - 1], shape.channels[i]),
      )
      .find((why) => why !== undefined);
    if (unsplittable) return { ok: false, code: "EFF3005", why: describeGroupsThatDoNotDivide(unsplittable) };
    const unbuildable = sizeProblems(spec, shape, BUILD_LIMITS);
    if (unbuildable.length) return { ok: false, code: "EFF3003", why: describeSizeProblems(unbuildable) };
    const huge = options.allowHuge ? [] : sizeProblems(spec, shape, SIZE_LIMITS);
    if (huge.length) return { ok: false, code: "EFF3001", why: describeSizeProblems(huge) };
    const totals = closedFormCovers(spec) ? shapeTotals(spec, shape) : this.layerTotals(c, spec);
    if (!options.allowHuge && (totals.params.total > SIZE_LIMITS.params || totals.macs > SIZE_LIMITS.macs))
      return { ok: false, code: "EFF3001", why: "past 10⁹ parameters or 10¹² MACs" };
    const deep = options.allowHuge ? undefined : this.tfjsLayersPastLimit(c, spec, shape);
    if (deep !== undefined)
      return { ok: false, code: "EFF3001", why: describeSizeProblems([sizeProblem("tfjsLayers", deep)]) };
    if (options.learnable !== false && totals.params.trainable === 0)
      return { ok: false, code: "EFF4002", why: "no trainable parameter" };
    return { ok: true, shape, totals };
  }

  /** The generated model's layers when past SIZE_LIMITS.tfjsLayers, lowering only a network with blocks enough to be (as compile's check does). */
  private tfjsLayersPastLimit(c: Coefficients, spec: Spec, shape: ScaledShape) {
    if (!mayBeTooDeep(shape.layers.reduce((n, l) => n + l, 0))) return undefined;
    const { compiled } = this.build(hypotheticalVariant(spec, "hypothetical", c), { allowHuge: true, spec });
    const layers = compiled?.ir.layers.length ?? 0;
    return layers > SIZE_LIMITS.tfjsLayers ? layers : undefined;
  }

  /** Totals from the layer IR, for specs whose operators have no closed form yet (closedFormCovers). */
  private layerTotals(c: Coefficients, spec: Spec): CostTotals {
    const { compiled } = this.build(hypotheticalVariant(spec, "hypothetical", c), { allowHuge: true, spec });
    if (!compiled) return { params: { total: 0, trainable: 0, nonTrainable: 0 }, macs: 0, flops: 0 };
    return { params: compiled.cost.params, macs: compiled.cost.macs, flops: compiled.cost.flops };
  }

  /**
   * Totals of a configuration that is known to be buildable (it is no larger than an admitted
   * variant); whether it can learn is the caller's question (an audit reports EFF4002 itself).
   */
  totals(c: Coefficients, spec?: Spec): CostTotals {
    const screened = this.screen(c, { allowHuge: true, spec, learnable: false });
    if (!screened.ok) throw new Error(`internal: what-if network refused (${screened.code}: ${screened.why})`);
    return screened.totals;
  }
}
