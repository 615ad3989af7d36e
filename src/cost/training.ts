import { elements, type Layer, type LayerKind, type NetworkIR, type Shape } from "../ir/ir.ts";
import { BYTES_PER_FLOAT } from "./cost.ts";

/**
 * What a training step holds per example, from the layer IR: the tensors that effnet's
 * trainer (tfjs-layers `trainOnBatch` with effnet's backward pass, src/runtime/kernels/
 * backprop.ts) keeps from the forward pass for the backward pass, and the largest
 * tensors alive at once on top of them during the backward pass.
 *
 * Kept: one entry per layer kind, read off the gradients that run. A layer keeps some of
 * its inputs (the gradient needs their values) and maybe its own output; a tensor kept by
 * several layers counts once. Gradients that need only shapes (Add, Mean, Reshape:
 * backprop.ts SHAPE_ONLY_SAVES) keep nothing. Besides layer outputs, a training-mode
 * batch norm keeps x − mean of its input (tf.moments: Square's gradient reads it).
 * Everything else a forward pass makes is freed as soon as its last consumer has run
 * (src/runtime/release.ts).
 */
interface KeepRule {
  /** Indices of the inputs whose values the layer's gradient reads. */
  readonly inputs: (layer: Layer) => readonly number[];
  /** Whether it reads its own output. */
  readonly output: (layer: Layer) => boolean;
  /** Extra tensors of its input's size that it keeps (batch norm's x − mean). */
  readonly extraInputSized: number;
  /** Extra tensors of its output's size (the pre-activation of a conv or dense layer with an activation). */
  readonly extraOutputSized?: (layer: Layer) => number;
}

const NOTHING: KeepRule = { inputs: () => [], output: () => false, extraInputSized: 0 };
const FIRST_INPUT = () => [0];

/** Activation gradients: swish (effnet's fused one, swish.ts) and relu/relu6 read x; sigmoid and softmax read y. */
const readsOutput = (activation: string) => activation === "sigmoid" || activation === "softmax";
const readsInput = (activation: string) => activation === "swish" || activation === "relu" || activation === "relu6";

/** A conv or dense layer's activation, applied as its own op to the layer's linear result. */
const layerActivation = (l: Layer) => (l.kind === "conv2d" || l.kind === "dense" ? l.attrs.activation : "linear");
/** Its output is its linear result (kept by its own gradient), or an activation's output that the activation's gradient reads. */
const keepsOwnOutput = (l: Layer) => layerActivation(l) === "linear" || readsOutput(layerActivation(l));
/** With an activation, the linear result is a separate tensor of the output's size, kept by the layer's gradient. */
const preActivation = (l: Layer) => (layerActivation(l) === "linear" ? 0 : 1);

export const TRAINING_KEEPS: { readonly [K in LayerKind]: KeepRule } = {
  input: NOTHING,
  // tfjs-layers runs conv2d as fused.conv2d (with its bias), whose gradient saves x, the
  // filter and its result y; an activation is then applied to y as its own op.
  conv2d: { inputs: FIRST_INPUT, output: keepsOwnOutput, extraInputSized: 0, extraOutputSized: preActivation },
  // DepthwiseConv2dNative's gradient saves x and the filter.
  depthwiseConv2d: { inputs: FIRST_INPUT, output: () => false, extraInputSized: 0 },
  // FusedBatchNorm's gradient saves x; tf.moments' Square saves x − mean.
  batchNorm: { inputs: FIRST_INPUT, output: () => false, extraInputSized: 1 },
  activation: {
    inputs: (l) => (l.kind === "activation" && readsInput(l.attrs.activation) ? [0] : []),
    output: (l) => l.kind === "activation" && readsOutput(l.attrs.activation),
    extraInputSized: 0,
  },
  globalAvgPool: NOTHING,
  // MaxPool's gradient saves x and y.
  maxPool: { inputs: FIRST_INPUT, output: () => true, extraInputSized: 0 },
  reshape: NOTHING,
  multiply: { inputs: (l) => l.inputs.map((_, i) => i), output: () => false, extraInputSized: 0 },
  add: NOTHING,
  // Dropout multiplies x by a mask: Multiply saves both (the mask is [N, 1, 1, 1] for drop connect).
  dropout: {
    inputs: (l) => (l.kind === "dropout" && l.attrs.rate > 0 ? [0] : []),
    output: () => false,
    extraInputSized: 0,
  },
  // fused.matMul saves a, b and y, as conv2d.
  dense: { inputs: FIRST_INPUT, output: keepsOwnOutput, extraInputSized: 0, extraOutputSized: preActivation },
};

/** Output shapes of every layer at another input resolution: the IR's shapes re-derived by each kind's size rule. */
export function shapesAtResolution(ir: NetworkIR, resolution: number): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  const spatial = (input: Shape, kernel: number, strides: number, padding: string): Shape => {
    const size = (n: number) => (padding === "same" ? Math.ceil(n / strides) : Math.floor((n - kernel) / strides) + 1);
    return [size(input[0]), size(input[1])];
  };
  for (const layer of ir.layers) {
    const input = layer.inputs.length ? shapes.get(layer.inputs[0])! : undefined;
    let shape: Shape;
    switch (layer.kind) {
      case "input":
        shape = [resolution, resolution, layer.outputShape[2]];
        break;
      case "conv2d":
        shape = [...spatial(input!, layer.attrs.kernel, layer.attrs.strides, layer.attrs.padding), layer.attrs.filters];
        break;
      case "depthwiseConv2d":
        shape = [
          ...spatial(input!, layer.attrs.kernel, layer.attrs.strides, layer.attrs.padding),
          input![2] * layer.attrs.depthMultiplier,
        ];
        break;
      case "maxPool":
        shape = [...spatial(input!, layer.attrs.pool, layer.attrs.strides, layer.attrs.padding), input![2]];
        break;
      case "globalAvgPool":
      case "reshape":
      case "dense":
        shape = layer.outputShape; // no spatial axes
        break;
      default:
        shape = input!;
    }
    shapes.set(layer.name, shape);
  }
  return shapes;
}

export interface TrainingActivations {
  /** Bytes kept from the forward pass for the backward pass, per example. */
  readonly keptBytes: number;
  /** Bytes of the largest layer output, per example: the backward pass's working tensors are this size. */
  readonly largestOutputBytes: number;
}

/** Per example, at `resolution` (default: the IR's own). */
export function trainingActivations(ir: NetworkIR, resolution?: number): TrainingActivations {
  const shapes =
    resolution === undefined
      ? new Map(ir.layers.map((l) => [l.name, l.outputShape]))
      : shapesAtResolution(ir, resolution);
  const bytes = (name: string) => elements(shapes.get(name)!) * BYTES_PER_FLOAT;
  const kept = new Set<string>();
  let extra = 0;
  for (const layer of ir.layers) {
    const rule = TRAINING_KEEPS[layer.kind];
    for (const i of rule.inputs(layer)) kept.add(layer.inputs[i]);
    if (rule.output(layer)) kept.add(layer.name);
    extra += rule.extraInputSized * (layer.inputs.length ? bytes(layer.inputs[0]) : 0);
    extra += (rule.extraOutputSized?.(layer) ?? 0) * bytes(layer.name);
  }
  let keptBytes = extra;
  for (const name of kept) keptBytes += bytes(name);
  const largestOutputBytes = Math.max(...ir.layers.map((l) => bytes(l.name)));
  return { keptBytes, largestOutputBytes };
}
