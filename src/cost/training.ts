import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { elements, type Layer, type LayerKind, type NetworkIR, type Shape } from "../ir/ir.ts";
import { WINDOW_PADDINGS } from "../vocabulary/conventions.ts";
import { BYTES_PER_FLOAT } from "./cost.ts";
import { formatBytes } from "./units.ts";

/**
 * What a training step holds per example, from the layer IR: the tensors that effnet's
 * trainer (tfjs-layers `trainOnBatch` with effnet's backward pass, src/runtime/kernels/
 * backprop.ts) keeps from the forward pass for the backward pass, and the largest
 * tensors alive at once on top of them during the backward pass.
 *
 * Kept: one entry per layer kind, read off the gradients that run. A layer keeps some of
 * its inputs (the gradient needs their values) and maybe its own output; a tensor kept by
 * several layers counts once. Gradients that need only shapes (Add, Mean, Reshape:
 * backprop.ts SHAPE_ONLY_SAVES) keep nothing.
 * Everything else a forward pass makes is freed as soon as its last consumer has run
 * (src/runtime/release.ts).
 */
interface KeepRule {
  /** Indices of the inputs whose values the layer's gradient reads. */
  readonly inputs: (layer: Layer) => readonly number[];
  /** Whether it reads its own output. */
  readonly output: (layer: Layer) => boolean;
  /** Extra tensors of its output's size (the pre-activation of a conv or dense layer with an activation). */
  readonly extraOutputSized?: (layer: Layer) => number;
}

const NOTHING: KeepRule = { inputs: () => [], output: () => false };
const FIRST_INPUT = () => [0];

/**
 * Activation gradients: relu/relu6 read x; sigmoid and softmax read y; effnet's swish
 * (swish.ts) reads y and σ(x), one more tensor of the output's size.
 */
const readsOutput = (activation: string) =>
  activation === "sigmoid" || activation === "softmax" || activation === "swish";
const readsInput = (activation: string) => activation === "relu" || activation === "relu6";
const keepsSigmoid = (activation: string) => (activation === "swish" ? 1 : 0);

/** A conv or dense layer's activation, applied as its own op to the layer's linear result. */
const layerActivation = (l: Layer) => (l.kind === "conv2d" || l.kind === "dense" ? l.attrs.activation : "linear");
/** Its output is its linear result (kept by its own gradient), or an activation's output that the activation's gradient reads. */
const keepsOwnOutput = (l: Layer) => layerActivation(l) === "linear" || readsOutput(layerActivation(l));
/** With an activation, the linear result is a separate tensor of the output's size, kept by the layer's gradient; swish keeps σ too. */
const preActivation = (l: Layer) => (layerActivation(l) === "linear" ? 0 : 1 + keepsSigmoid(layerActivation(l)));
/** A convolution without bias or activation runs as tf.conv2d (conv_layer.ts), whose gradient keeps x alone. */
const plainConvolution = (l: Layer) => l.kind === "conv2d" && !l.attrs.useBias && l.attrs.activation === "linear";

export const TRAINING_KEEPS: { readonly [K in LayerKind]: KeepRule } = {
  input: NOTHING,
  // tfjs-layers runs conv2d as fused.conv2d (with its bias), whose gradient saves x, the
  // filter and its result y; an activation is then applied to y as its own op. Without
  // bias or activation effnet runs tf.conv2d instead, which saves x and the filter.
  conv2d: {
    inputs: FIRST_INPUT,
    output: (l) => !plainConvolution(l) && keepsOwnOutput(l),
    extraOutputSized: preActivation,
  },
  // DepthwiseConv2dNative's gradient saves x and the filter.
  depthwiseConv2d: { inputs: FIRST_INPUT, output: () => false },
  // effnet's training batch norm (src/runtime/kernels/batch_norm_training.ts) saves x.
  batchNorm: { inputs: FIRST_INPUT, output: () => false },
  activation: {
    inputs: (l) => (l.kind === "activation" && readsInput(l.attrs.activation) ? [0] : []),
    output: (l) => l.kind === "activation" && readsOutput(l.attrs.activation),
    extraOutputSized: (l) => (l.kind === "activation" ? keepsSigmoid(l.attrs.activation) : 0),
  },
  globalAvgPool: NOTHING,
  // MaxPool's gradient saves x and y.
  maxPool: { inputs: FIRST_INPUT, output: () => true },
  reshape: NOTHING,
  multiply: { inputs: (l) => l.inputs.map((_, i) => i), output: () => false },
  add: NOTHING,
  // Dropout multiplies x by a mask: Multiply saves both (the mask is [N, 1, 1, 1] for drop connect).
  dropout: {
    inputs: (l) => (l.kind === "dropout" && l.attrs.rate > 0 ? [0] : []),
    output: () => false,
  },
  // fused.matMul saves a, b and y, as conv2d.
  dense: { inputs: FIRST_INPUT, output: keepsOwnOutput, extraOutputSized: preActivation },
  // The input preprocessing sits before every trainable weight: no gradient flows through it.
  rescaling: NOTHING,
  normalization: NOTHING,
  // Pad's gradient is a slice of dy: it needs only shapes.
  zeroPadding2d: NOTHING,
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
      case "zeroPadding2d": {
        // The window's padding, at this resolution's sizes (Keras's correct_pad depends on parity).
        const rule = WINDOW_PADDINGS[layer.attrs.rule];
        const [top, bottom] = rule.pads(input![0], layer.attrs.kernel);
        const [left, right] = rule.pads(input![1], layer.attrs.kernel);
        shape = [input![0] + top + bottom, input![1] + left + right, input![2]];
        break;
      }
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
    extra += (rule.extraOutputSized?.(layer) ?? 0) * bytes(layer.name);
  }
  let keptBytes = extra;
  for (const name of kept) keptBytes += bytes(name);
  const largestOutputBytes = Math.max(...ir.layers.map((l) => bytes(l.name)));
  return { keptBytes, largestOutputBytes };
}

export interface OptimizerDef {
  /** Floats of state per trainable parameter. */
  readonly statePerParam: number;
  readonly description: string;
}

/** The one table of optimizers whose state the memory estimate knows. */
export const OPTIMIZERS = {
  // Kingma & Ba 2015: first and second moment estimates, one float each per parameter.
  adam: { statePerParam: 2, description: "Adam: first and second moments, 2 floats per trainable parameter" },
  // Plain SGD keeps nothing; with momentum, one velocity per parameter.
  sgd: { statePerParam: 0, description: "SGD without momentum: no state" },
  momentum: { statePerParam: 1, description: "SGD with momentum: 1 float per trainable parameter" },
  // RMSProp (Hinton's lecture 6e; the EfficientNet paper's optimizer, section 5.2): one mean square per parameter.
  rmsprop: { statePerParam: 1, description: "RMSProp: 1 float (mean square) per trainable parameter" },
} as const satisfies Record<string, OptimizerDef>;

export type OptimizerName = keyof typeof OPTIMIZERS;
export const DEFAULT_OPTIMIZER: OptimizerName = "adam";

export interface TrainingMemoryOptions {
  readonly batch: number;
  /** Input resolution (default: the IR's). */
  readonly resolution?: number;
  /** Classifier units (default: the IR's classes). */
  readonly classes?: number;
  readonly optimizer?: OptimizerName;
  /** Whether tensors live in a wasm heap, whose growth adds to the total (see heapOverhead); default true. */
  readonly wasmHeap?: boolean;
}

/** The estimate's parts, in bytes; `totalBytes` is their sum. */
export interface TrainingMemoryEstimate {
  readonly batch: number;
  /** Every parameter, trainable or not. */
  readonly weightBytes: number;
  /** One gradient per trainable parameter (all alive when the optimizer runs). */
  readonly gradientBytes: number;
  /** The optimizer's slots. */
  readonly optimizerBytes: number;
  /** What the forward pass keeps for the backward pass, batch × `trainingActivations().keptBytes`. */
  readonly activationBytes: number;
  /** The backward pass's working tensors on top of them (see KERNEL_TEMPORARY_OUTPUTS). */
  readonly workspaceBytes: number;
  /** What the wasm heap adds beyond live tensors: its start size and how it grows (see heapOverhead). */
  readonly heapOverheadBytes: number;
  readonly totalBytes: number;
}

/**
 * The backward pass's working set on top of the kept tensors. Measured (bench/memory.ts)
 * the peak comes early in the backward pass, at the largest layers, while nearly all kept
 * tensors are still alive: there, the gradient flowing back through a layer (one tensor
 * of the largest output's size per example), and a kernel's temporaries, up to three
 * more of that size (batch norm's gradient, the strided input gradients' dilated dy) but
 * never more than the filter gradients' chunk budget (src/runtime/kernels/chunks.ts
 * CHUNK_BYTES), which they are computed in.
 */
const KERNEL_TEMPORARY_OUTPUTS = 3;
/** Intermediates a filter-gradient kernel holds at once (src/runtime/kernels/chunks.ts CHUNK_BYTES). */
const KERNEL_CHUNK_BYTES = 48 * 2 ** 20;
/** The wasm heap's size before anything is allocated (tfjs-backend-wasm's INITIAL_MEMORY, 16 MiB). */
const WASM_INITIAL_HEAP_BYTES = 16 * 2 ** 20;

/**
 * What the wasm heap holds beyond tensors: its initial 16 MiB, XNNPACK's packed copy of
 * every convolution and dense filter (tfjs-backend-wasm creates one XNNPACK operator per
 * filter tensor and keeps it, with its packed weights, while the filter lives: about the
 * model's weights again), the allocator's fragmentation, and emscripten's growth step
 * (emscripten_resize_heap in tfjs-backend-wasm's glue code): a heap that must grow to
 * `needed` grows to max(needed, min(1.2 × its size, needed + 96 MiB)), so it ends up to
 * 20 % or 96 MiB (the smaller) past what it needed; counted in full.
 *
 * Fragmentation: freed blocks that the next, differently sized tensors cannot reuse.
 * Measured (bench/memory.ts, heap − live tensors at the peak) it grows with the size of
 * the largest tensors. It was 2–6 × the largest layer output's bytes at the batch, over
 * B0–B4, while the depthwise filter gradients built patch matrices in chunks of images of
 * many sizes; since they run in place (src/runtime/kernels/depthwise_simd.ts) the whole
 * heap overhead is at most about one largest output beyond the fixed parts (B0 at batch
 * 16: heap 1645 MiB, live tensors 1591 MiB).
 */
const FRAGMENTATION_OUTPUTS = 1;

function heapOverhead(liveBytes: number, weightBytes: number, largestBatchOutputBytes: number): number {
  const growth = Math.round(Math.min(0.2 * liveBytes, 96 * 2 ** 20));
  return WASM_INITIAL_HEAP_BYTES + weightBytes + FRAGMENTATION_OUTPUTS * largestBatchOutputBytes + growth;
}

/**
 * Share of the backend's limit that the check lets an estimate use: the estimate is
 * within about ±20 % of the measured heap, and fragmentation varies most (B0 at batch 42,
 * estimated at 98 % of 4 GiB, aborted); 10 % headroom keeps the largest batch it names
 * trainable (measured: B0 at batch 33, B4 at batch 4).
 */
export const MEMORY_HEADROOM = 0.9;

/** Parameters with the classifier resized to `classes` units (the last axis of the output dense layer's kernel and bias). */
function paramCounts(ir: NetworkIR, classes: number): { total: number; trainable: number } {
  let total = 0;
  let trainable = 0;
  for (const layer of ir.layers) {
    const resized = layer.kind === "dense" && layer.name === ir.output;
    for (const w of layer.weights) {
      const n = elements(resized ? [...w.shape.slice(0, -1), classes] : w.shape);
      total += n;
      if (w.trainable) trainable += n;
    }
  }
  return { total, trainable };
}

/** What effnet's trainer holds at its peak for one training step: see the parts of TrainingMemoryEstimate. */
export function trainingMemoryEstimate(ir: NetworkIR, options: TrainingMemoryOptions): TrainingMemoryEstimate {
  return trainingMemory(ir, options)(options.batch);
}

/**
 * The estimate as a function of the batch: the walk over the layers (parameters, kept
 * tensors) does not depend on it, so a report of several batches or the search for the
 * largest batch that fits walks them once.
 */
export function trainingMemory(
  ir: NetworkIR,
  options: Omit<TrainingMemoryOptions, "batch">,
): (batch: number) => TrainingMemoryEstimate {
  const params = paramCounts(ir, options.classes ?? ir.classes);
  const activations = trainingActivations(ir, options.resolution);
  const weightBytes = params.total * BYTES_PER_FLOAT;
  const gradientBytes = params.trainable * BYTES_PER_FLOAT;
  const optimizerBytes =
    params.trainable * OPTIMIZERS[options.optimizer ?? DEFAULT_OPTIMIZER].statePerParam * BYTES_PER_FLOAT;
  return (batch) => {
    const activationBytes = batch * activations.keptBytes;
    const largest = batch * activations.largestOutputBytes;
    const workspaceBytes = largest + Math.min(KERNEL_TEMPORARY_OUTPUTS * largest, KERNEL_CHUNK_BYTES);
    const live = weightBytes + gradientBytes + optimizerBytes + activationBytes + workspaceBytes;
    const heapOverheadBytes = options.wasmHeap === false ? 0 : heapOverhead(live, weightBytes, largest);
    return {
      batch,
      weightBytes,
      gradientBytes,
      optimizerBytes,
      activationBytes,
      workspaceBytes,
      heapOverheadBytes,
      totalBytes: live + heapOverheadBytes,
    };
  };
}

export interface MemoryLimit {
  readonly bytes: number;
  /** What the limit is, for the message: "the wasm backend's 4 GiB heap". */
  readonly what: string;
}

/**
 * Before training allocates anything: does the estimate fit the backend's limit? An
 * EFF0007 error naming the largest batch that fits if not (`batchOption` is the option
 * that sets it, e.g. --batch-size), undefined if it fits.
 */
export function checkTrainingMemory(
  ir: NetworkIR,
  options: TrainingMemoryOptions,
  limit: MemoryLimit,
  batchOption: string,
): Diagnostic | undefined {
  const usable = MEMORY_HEADROOM * limit.bytes;
  const atBatch = trainingMemory(ir, options);
  const estimate = atBatch(options.batch);
  if (estimate.totalBytes <= usable) return undefined;
  let largest = options.batch - 1;
  while (largest >= 1 && atBatch(largest).totalBytes > usable) largest--;
  const resolution = options.resolution ?? ir.inputShape[0];
  return diagnostic(
    "EFF0007",
    {
      network: ir.network,
      variant: ir.variant,
      resolution,
      batch: options.batch,
      needs: formatBytes(estimate.totalBytes),
      share: Math.round(MEMORY_HEADROOM * 100),
      limit: limit.what,
      ...(largest >= 1
        ? {
            fits: {
              batch: largest,
              needs: formatBytes(atBatch(largest).totalBytes),
            },
          }
        : {}),
    },
    undefined,
    {
      help:
        largest >= 1
          ? `pass ${batchOption} ${largest}, or --allow-huge to try anyway`
          : "pass a smaller --resolution, or --allow-huge to try anyway",
    },
  );
}
