import { cost, type NetworkCost } from "../cost/cost.ts";
import { lower } from "../ir/lower.ts";
import { scale, type ScaledNetwork } from "../scaling/scale.ts";
import type { Spec, Variant } from "../semantics/spec.ts";

/** Width, depth and resolution of a network that no spec names: a point the audit or `solve` asks about. */
export interface Coefficients {
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
}

/** A synthetic variant: the same pure pipeline (scale → lower → cost) as compile.ts runs on declared ones. */
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

/** The shape of a scaled network, as a key: equal keys mean equal networks, hence equal costs. */
export function shapeKey(network: ScaledNetwork): string {
  return `${network.input.height}x${network.input.width}|${network.stages.map((s) => `${s.channels.value}/${s.layers.value}`).join(",")}`;
}

const costKey = (network: ScaledNetwork) => `${network.spec.rounding}|${shapeKey(network)}`;

/**
 * Costs hypothetical configurations of one spec, memoized by the scaled shape: rounding
 * maps many coefficients onto one network, and lowering a B7 takes milliseconds.
 */
export class Costing {
  private readonly byShape = new Map<string, NetworkCost>();

  constructor(readonly spec: Spec) {}

  /** Distinct networks lowered and costed so far. */
  get networksBuilt(): number {
    return this.byShape.size;
  }

  /** The scaled network, or undefined past the size limits (unless `allowHuge`). */
  scaled(c: Coefficients, options: { allowHuge?: boolean; spec?: Spec } = {}): ScaledNetwork | undefined {
    const spec = options.spec ?? this.spec;
    return scale(spec, hypotheticalVariant(spec, "hypothetical", c), { allowHuge: options.allowHuge }).network;
  }

  costOf(network: ScaledNetwork): NetworkCost {
    let found = this.byShape.get(costKey(network));
    if (!found) {
      found = cost(lower(network));
      this.remember(network, found);
    }
    return found;
  }

  /** A network already lowered and costed elsewhere (the compiled variants): not built again. */
  remember(network: ScaledNetwork, networkCost: NetworkCost): void {
    this.byShape.set(costKey(network), networkCost);
  }

  /** Cost of a configuration that is known to be buildable (it is no larger than an admitted variant). */
  cost(c: Coefficients, spec?: Spec): NetworkCost {
    return this.costOf(this.scaled(c, { allowHuge: true, spec })!);
  }
}
