import { elements, type Layer, type LayerKind, type NetworkIR, type Shape } from "../ir/ir.ts";

/**
 * Counting conventions (docs/design.md, "Counting conventions"):
 * - MACs are multiply-accumulates of convolutions (SE 1x1 convolutions included) and
 *   dense layers: the paper's "FLOPS". FLOPs = 2 × MACs, always printed beside them.
 * - Elementwise operations are counted apart, one per output element of batch norm,
 *   activations, SE scaling, residual adds, bias adds and dropout, and one per input
 *   element summed by pooling. They are not in MACs unless asked for.
 * - Parameters are trainable (kernels, biases, BN gamma/beta) and non-trainable (BN
 *   moving mean and variance), read off the IR's weight shapes.
 * - Memory is float32 (4 bytes), batch 1: parameter bytes, and activation bytes as the
 *   total of every layer's output and the peak of tensors alive at once in topological
 *   order (a tensor lives from its producer until its last consumer has run).
 */
export const BYTES_PER_FLOAT = 4;

interface KindCost {
  /** Multiply-accumulates for one example. */
  readonly macs: (layer: Layer, inputs: readonly Shape[]) => number;
  /** Elementwise operations for one example. */
  readonly elementwise: (layer: Layer, inputs: readonly Shape[]) => number;
}

const none = () => 0;
const perOutput = (layer: Layer) => elements(layer.outputShape);
const biasAdds = (layer: Layer) => (layer.weights.some((w) => w.name === "bias") ? elements(layer.outputShape) : 0);

/** The one table of per-kind cost rules. */
export const COST_RULES: { readonly [K in LayerKind]: KindCost } = {
  input: { macs: none, elementwise: none },
  rescaling: { macs: none, elementwise: perOutput },
  // A subtraction and a division per element.
  normalization: { macs: none, elementwise: (l) => 2 * elements(l.outputShape) },
  zeroPadding2d: { macs: none, elementwise: none },
  conv2d: {
    // Each output element is a dot product over a k×k×(C_in / groups) window (torchvision's count: kh·kw·(cin/groups)·cout·Hout·Wout).
    macs: (l, [x]) =>
      l.kind === "conv2d"
        ? (elements(l.outputShape) * l.attrs.kernel * l.attrs.kernel * x[x.length - 1]) / l.attrs.groups
        : 0,
    elementwise: (l) =>
      biasAdds(l) + (l.kind === "conv2d" && l.attrs.activation !== "linear" ? elements(l.outputShape) : 0),
  },
  depthwiseConv2d: {
    // Each output element is a dot product over a k×k window of one channel.
    macs: (l) => (l.kind === "depthwiseConv2d" ? elements(l.outputShape) * l.attrs.kernel * l.attrs.kernel : 0),
    elementwise: biasAdds,
  },
  batchNorm: { macs: none, elementwise: perOutput },
  activation: { macs: none, elementwise: perOutput },
  globalAvgPool: { macs: none, elementwise: (l, [x]) => elements(x) },
  maxPool: {
    macs: none,
    elementwise: (l) => (l.kind === "maxPool" ? elements(l.outputShape) * l.attrs.pool * l.attrs.pool : 0),
  },
  reshape: { macs: none, elementwise: none },
  multiply: { macs: none, elementwise: perOutput },
  add: { macs: none, elementwise: perOutput },
  dropout: { macs: none, elementwise: none },
  dense: {
    macs: (l, [x]) => (l.kind === "dense" ? x[x.length - 1] * l.attrs.units : 0),
    elementwise: (l) =>
      biasAdds(l) + (l.kind === "dense" && l.attrs.activation !== "linear" ? elements(l.outputShape) : 0),
  },
};

export interface ParamCount {
  readonly total: number;
  readonly trainable: number;
  readonly nonTrainable: number;
}

export interface LayerCost {
  readonly name: string;
  readonly kind: LayerKind;
  readonly stage: number;
  readonly outputShape: Shape;
  readonly params: ParamCount;
  readonly macs: number;
  readonly elementwise: number;
  readonly outputBytes: number;
}

export interface StageCost {
  readonly stage: number;
  readonly params: ParamCount;
  readonly macs: number;
  readonly elementwise: number;
  readonly layers: number;
}

export interface NetworkCost {
  readonly params: ParamCount;
  readonly macs: number;
  readonly flops: number;
  readonly elementwise: number;
  readonly memory: {
    readonly paramBytes: number;
    readonly activationBytesTotal: number;
    readonly activationBytesPeak: number;
  };
  readonly layers: readonly LayerCost[];
  readonly stages: readonly StageCost[];
  /** The first stage with a layer of no rows or no columns (src/cost/totals.ts, CostTotals). */
  readonly emptyStage?: number;
}

function paramCount(layer: Layer): ParamCount {
  let trainable = 0;
  let nonTrainable = 0;
  for (const w of layer.weights) {
    if (w.trainable) trainable += elements(w.shape);
    else nonTrainable += elements(w.shape);
  }
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

const addParams = (a: ParamCount, b: ParamCount): ParamCount => ({
  total: a.total + b.total,
  trainable: a.trainable + b.trainable,
  nonTrainable: a.nonTrainable + b.nonTrainable,
});
const ZERO: ParamCount = { total: 0, trainable: 0, nonTrainable: 0 };

/** Walks the IR once: per-layer costs, per-stage and whole-network sums, activation memory. */
export function cost(ir: NetworkIR): NetworkCost {
  const shapes = new Map<string, Shape>();
  const lastUse = new Map<string, number>();
  ir.layers.forEach((layer, i) => layer.inputs.forEach((input) => lastUse.set(input, i)));
  const layers: LayerCost[] = [];
  const stages = new Map<number, { params: ParamCount; macs: number; elementwise: number; layers: number }>();
  let params = ZERO;
  let macs = 0;
  let elementwise = 0;
  let live = 0;
  let peak = 0;
  let total = 0;
  const alive: { name: string; bytes: number }[] = [];
  ir.layers.forEach((layer, i) => {
    const inputs = layer.inputs.map((n) => shapes.get(n)!);
    shapes.set(layer.name, layer.outputShape);
    const rule = COST_RULES[layer.kind];
    const c: LayerCost = {
      name: layer.name,
      kind: layer.kind,
      stage: layer.stage,
      outputShape: layer.outputShape,
      params: paramCount(layer),
      macs: rule.macs(layer, inputs),
      elementwise: rule.elementwise(layer, inputs),
      outputBytes: elements(layer.outputShape) * BYTES_PER_FLOAT,
    };
    layers.push(c);
    params = addParams(params, c.params);
    macs += c.macs;
    elementwise += c.elementwise;
    const s = stages.get(layer.stage) ?? { params: ZERO, macs: 0, elementwise: 0, layers: 0 };
    stages.set(layer.stage, {
      params: addParams(s.params, c.params),
      macs: s.macs + c.macs,
      elementwise: s.elementwise + c.elementwise,
      layers: s.layers + 1,
    });
    // Memory: the new output joins the live set while its inputs are still held.
    total += c.outputBytes;
    live += c.outputBytes;
    alive.push({ name: layer.name, bytes: c.outputBytes });
    peak = Math.max(peak, live);
    for (let k = alive.length - 1; k >= 0; k--) {
      const t = alive[k];
      // A tensor nobody consumes (but the network output) is freed right after it is made.
      if (t.name !== ir.output && (lastUse.get(t.name) ?? i) <= i) {
        live -= t.bytes;
        alive.splice(k, 1);
      }
    }
  });
  const empty = ir.layers.find((l) => l.outputShape.length === 3 && (l.outputShape[0] < 1 || l.outputShape[1] < 1));
  return {
    params,
    macs,
    flops: 2 * macs,
    ...(empty ? { emptyStage: empty.stage } : {}),
    elementwise,
    memory: { paramBytes: params.total * BYTES_PER_FLOAT, activationBytesTotal: total, activationBytesPeak: peak },
    layers,
    stages: [...stages.entries()].map(([stage, s]) => ({ stage, ...s })),
  };
}
