/**
 * Folding a saved tfjs layers model for inference: a rewrite of its Keras-style topology
 * (model.json's modelTopology) and of its weights, with no tfjs model built. Each rewrite
 * computes the same function in inference mode, and leaves only classes that tfjs itself
 * registers (or the custom layers the model already had):
 *
 * - batch norm after a convolution or dense layer goes into that layer's kernel and bias
 *   (in inference BN is y = γ(x − μ)/√(σ² + ε) + β, per output channel, an affine map:
 *   W' = W·s, b' = (b − μ)·s + β with s = γ/√(σ² + ε); the layer gains a bias if it had none);
 * - an Activation after a convolution or dense layer becomes that layer's `activation`
 *   (tfjs fuses relu, elu and linear into Conv2D's and Dense's kernel, layers
 *   generic_utils.mapActivationToFusedKernel; the others still save a layer);
 * - Dropout (dropout and drop connect) is the identity in inference and is removed;
 * - Rescaling followed by EffnetNormalization (the convention's preprocessing: pixels in
 *   [0, 255] to (x/255 − mean)/std) becomes one 1×1 DepthwiseConv2D with a bias, a
 *   per-channel affine map in a class tfjs has, so the model loads without effnet's layers;
 * - ZeroPadding2D before a `valid` convolution becomes the convolution's `same` padding
 *   where the two pad alike (Keras's correct_pad is TensorFlow's `same` for stride 2);
 * - GlobalAveragePooling2D becomes an AveragePooling2D whose window is the whole feature map
 *   (and the SE block's Reshape to 1×1×C goes: that is the pooling's own output shape), else
 *   followed by a Flatten: tfjs runs the global one as a Mean, on wasm a scalar loop ~30× slower
 *   than the pooling kernel (XNNPACK) for a 112×112×96 map, and ~35× slower on cpu.
 *
 * Only one-input, one-node layers whose output goes nowhere else are merged: a convolution
 * whose output is also used elsewhere (a residual branch) keeps its batch norm.
 */

/** One layer of a functional model's config, as tfjs serialises it (snake_case keys). */
export interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

interface ModelTopologyJson {
  class_name: string;
  config: {
    name: string;
    layers: LayerJson[];
    input_layers: [string, number, number][];
    output_layers: [string, number, number][];
  };
  keras_version?: string;
  backend?: string;
}

export interface NamedWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** What folding did, counted per rewrite, for the export's report. */
export interface FoldCounts {
  batchNorms: number;
  activations: number;
  dropouts: number;
  preprocessing: number;
  paddings: number;
  pools: number;
}

export interface FoldResult {
  readonly topology: ModelTopologyJson;
  readonly weights: NamedWeight[];
  readonly counts: FoldCounts;
  /** Batch norms left as layers (not after a convolution or dense layer whose output is theirs alone). */
  readonly unfoldedBatchNorms: readonly string[];
}

/** The layers whose kernel and bias batch norm folds into, and the name of the kernel weight. */
const FOLD_TARGETS: Readonly<Record<string, string>> = {
  Conv2D: "kernel",
  DepthwiseConv2D: "depthwise_kernel",
  Dense: "kernel",
  EffnetGroupedConv2D: "kernel",
};

/** Layers whose `activation` config an Activation layer can move into (tfjs's Conv2D, DepthwiseConv2D, Dense). */
const TAKES_ACTIVATION = new Set(["Conv2D", "DepthwiseConv2D", "Dense"]);

/** A BatchNormalization over channels (the last axis of NHWC or of a dense output). */
const overChannels = (layer: LayerJson) => {
  const axis = layer.config.axis;
  return axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3));
};

class Graph {
  readonly byName = new Map<string, LayerJson>();
  readonly weights = new Map<string, NamedWeight>();

  constructor(
    readonly topology: ModelTopologyJson,
    weights: readonly NamedWeight[],
  ) {
    for (const l of topology.config.layers) this.byName.set(l.name, l);
    for (const w of weights) this.weights.set(w.name, w);
  }

  get layers(): LayerJson[] {
    return this.topology.config.layers;
  }

  /** The one layer feeding `layer`, when it has exactly one input in one node. */
  producer(layer: LayerJson): LayerJson | undefined {
    if (layer.inbound_nodes.length !== 1 || layer.inbound_nodes[0].length !== 1) return undefined;
    const [name, nodeIndex, tensorIndex] = layer.inbound_nodes[0][0];
    return nodeIndex === 0 && tensorIndex === 0 ? this.byName.get(name) : undefined;
  }

  /** How many inputs of layers (and model outputs) read `name`'s output. */
  uses(name: string): number {
    let n = this.topology.config.output_layers.filter(([o]) => o === name).length;
    for (const l of this.layers) for (const node of l.inbound_nodes) n += node.filter(([i]) => i === name).length;
    return n;
  }

  /** Whether `first` (the producer of the layer at hand) feeds that layer alone, in one node: the pair can become one layer. */
  mergeable(first: LayerJson | undefined): first is LayerJson {
    return first !== undefined && first.inbound_nodes.length === 1 && this.uses(first.name) === 1;
  }

  /** Removes `layer`, reading its producer's output wherever it read `layer`'s. */
  bypass(layer: LayerJson, by: LayerJson): void {
    for (const l of this.layers)
      for (const node of l.inbound_nodes) for (const input of node) if (input[0] === layer.name) input[0] = by.name;
    for (const output of this.topology.config.output_layers) if (output[0] === layer.name) output[0] = by.name;
    this.topology.config.layers = this.layers.filter((l) => l !== layer);
    this.byName.delete(layer.name);
    for (const key of [...this.weights.keys()]) if (key.startsWith(`${layer.name}/`)) this.weights.delete(key);
  }

  weight(layer: string, name: string): NamedWeight | undefined {
    return this.weights.get(`${layer}/${name}`);
  }

  setWeight(layer: string, name: string, shape: readonly number[], values: Float32Array): void {
    this.weights.set(`${layer}/${name}`, { name: `${layer}/${name}`, shape, values });
  }
}

function foldBatchNorm(graph: Graph, bn: LayerJson, target: LayerJson): void {
  const kernelName = FOLD_TARGETS[target.class_name];
  const kernel = graph.weight(target.name, kernelName)!;
  const channels = graph.weight(bn.name, "moving_mean")!.values.length;
  const epsilon = Number(bn.config.epsilon ?? 1e-3);
  const mean = graph.weight(bn.name, "moving_mean")!.values;
  const variance = graph.weight(bn.name, "moving_variance")!.values;
  const gamma = bn.config.scale === false ? undefined : graph.weight(bn.name, "gamma")?.values;
  const beta = bn.config.center === false ? undefined : graph.weight(bn.name, "beta")?.values;
  const bias = target.config.use_bias === false ? undefined : graph.weight(target.name, "bias")?.values;
  // In float64, then rounded once: the folded weights are the nearest float32 to the exact product.
  const scale = Float64Array.from(mean, (_, c) => (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon));
  // The output channel is the kernel's last axis (the last two, flattened, for depthwise [k, k, C, m]).
  const folded = new Float32Array(kernel.values.length);
  for (let i = 0, c = 0; i < folded.length; i++, c = c + 1 === channels ? 0 : c + 1)
    folded[i] = kernel.values[i] * scale[c];
  const foldedBias = Float32Array.from(scale, (s, c) => ((bias ? bias[c] : 0) - mean[c]) * s + (beta ? beta[c] : 0));
  graph.setWeight(target.name, kernelName, kernel.shape, folded);
  graph.setWeight(target.name, "bias", [channels], foldedBias);
  target.config.use_bias = true;
  graph.bypass(bn, target);
}

/** The kernel's output channels for a batch norm to fold into it, when the shapes fit. */
function outputChannels(graph: Graph, layer: LayerJson): number | undefined {
  const kernel = graph.weight(layer.name, FOLD_TARGETS[layer.class_name]);
  if (!kernel) return undefined;
  const s = kernel.shape;
  return layer.class_name === "DepthwiseConv2D" ? s[s.length - 2] * s[s.length - 1] : s[s.length - 1];
}

function foldBatchNorms(graph: Graph, counts: FoldCounts): string[] {
  const left: string[] = [];
  for (const bn of [...graph.layers].filter((l) => l.class_name === "BatchNormalization")) {
    const target = graph.producer(bn);
    const foldable =
      graph.mergeable(target) &&
      target.class_name in FOLD_TARGETS &&
      (target.config.activation ?? "linear") === "linear" &&
      overChannels(bn) &&
      outputChannels(graph, target) === graph.weight(bn.name, "moving_mean")?.values.length;
    if (foldable) {
      foldBatchNorm(graph, bn, target);
      counts.batchNorms++;
    } else left.push(bn.name);
  }
  return left;
}

function removeDropouts(graph: Graph, counts: FoldCounts): void {
  for (const dropout of [...graph.layers].filter((l) => l.class_name === "Dropout")) {
    const input = graph.producer(dropout);
    if (!input) continue;
    graph.bypass(dropout, input);
    counts.dropouts++;
  }
}

function mergeActivations(graph: Graph, counts: FoldCounts): void {
  for (const activation of [...graph.layers].filter((l) => l.class_name === "Activation")) {
    const target = graph.producer(activation);
    if (!graph.mergeable(target) || !TAKES_ACTIVATION.has(target.class_name)) continue;
    if ((target.config.activation ?? "linear") !== "linear") continue;
    target.config.activation = activation.config.activation;
    graph.bypass(activation, target);
    counts.activations++;
  }
}

/**
 * Rescaling(scale, offset) then EffnetNormalization (src/runtime/layers.ts: (x − mean)/std,
 * or with stored statistics (x − mean)/max(√variance, 1e-7)) as one 1×1 depthwise
 * convolution: kernel scale/std, bias (offset − mean)/std, per channel.
 */
function foldPreprocessing(graph: Graph, counts: FoldCounts): void {
  for (const normalization of [...graph.layers].filter((l) => l.class_name === "EffnetNormalization")) {
    const config = normalization.config as unknown as { mean: number[]; std: number[]; stored: boolean };
    const stored = config.stored
      ? { mean: graph.weight(normalization.name, "mean"), variance: graph.weight(normalization.name, "variance") }
      : undefined;
    if (stored && !(stored.mean && stored.variance)) continue;
    const mean = stored ? Array.from(stored.mean!.values) : config.mean;
    const std = stored ? Array.from(stored.variance!.values, (v) => Math.max(Math.sqrt(v), 1e-7)) : config.std;
    const before = graph.producer(normalization);
    const rescaling = before?.class_name === "Rescaling" && graph.mergeable(before) ? before : undefined;
    const scale = rescaling ? Number(rescaling.config.scale) : 1;
    const offset = rescaling ? Number(rescaling.config.offset ?? 0) : 0;
    const channels = mean.length;
    const replacement: LayerJson = {
      name: normalization.name,
      class_name: "DepthwiseConv2D",
      config: {
        name: normalization.name,
        trainable: false,
        kernel_size: [1, 1],
        strides: [1, 1],
        padding: "valid",
        data_format: "channels_last",
        dilation_rate: [1, 1],
        depth_multiplier: 1,
        activation: "linear",
        use_bias: true,
        depthwise_initializer: { class_name: "Ones", config: {} },
        bias_initializer: { class_name: "Zeros", config: {} },
      },
      inbound_nodes: normalization.inbound_nodes,
    };
    for (const key of [...graph.weights.keys()])
      if (key.startsWith(`${normalization.name}/`)) graph.weights.delete(key);
    graph.topology.config.layers = graph.layers.map((l) => (l === normalization ? replacement : l));
    graph.byName.set(replacement.name, replacement);
    graph.setWeight(
      replacement.name,
      "depthwise_kernel",
      [1, 1, channels, 1],
      Float32Array.from(std, (s) => scale / s),
    );
    graph.setWeight(
      replacement.name,
      "bias",
      [channels],
      Float32Array.from(std, (s, c) => (offset - mean[c]) / s),
    );
    if (rescaling) {
      replacement.inbound_nodes = rescaling.inbound_nodes;
      graph.topology.config.layers = graph.layers.filter((l) => l !== rescaling);
      graph.byName.delete(rescaling.name);
    }
    counts.preprocessing++;
  }
}

/** TensorFlow's `same` padding of one axis: (before, after) for input n, kernel k, stride s (tf.nn conv docs). */
export function samePadding(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * ZeroPadding2D then a `valid` convolution is the convolution with `same` padding when the
 * explicit padding is what `same` would add (tfjs pads `same` as TensorFlow does). Needs
 * the padding layer's input size, which the topology does not hold: `inputSizeOf` gives it.
 */
function mergePaddings(graph: Graph, counts: FoldCounts, inputSizeOf: (layer: string) => number[] | undefined): void {
  for (const padding of [...graph.layers].filter((l) => l.class_name === "ZeroPadding2D")) {
    const consumers = graph.layers.filter((l) => l.inbound_nodes.some((n) => n.some(([i]) => i === padding.name)));
    const conv = consumers.length === 1 ? consumers[0] : undefined;
    if (!conv || graph.uses(padding.name) !== 1 || graph.producer(conv) !== padding) continue;
    if (!(conv.class_name in FOLD_TARGETS) || conv.class_name === "Dense" || conv.config.padding !== "valid") continue;
    const dilation = (conv.config.dilation_rate as number[] | undefined) ?? [1, 1];
    if (dilation.some((d) => d !== 1)) continue;
    const size = inputSizeOf(padding.name);
    const input = graph.producer(padding);
    if (!size || !input) continue;
    const pads = padding.config.padding as [[number, number], [number, number]];
    const kernel = conv.config.kernel_size as number[];
    const strides = conv.config.strides as number[];
    const same = [0, 1].every((axis) => {
      const [before, after] = samePadding(size[axis], kernel[axis], strides[axis]);
      return pads[axis][0] === before && pads[axis][1] === after;
    });
    if (!same) continue;
    conv.config.padding = "same";
    graph.bypass(padding, input);
    counts.paddings++;
  }
}

/** Each GlobalAveragePooling2D over a known H×W as an AveragePooling2D with an H×W window (see the header). */
function poolWindows(graph: Graph, counts: FoldCounts, inputSizeOf: (layer: string) => number[] | undefined): void {
  for (const gap of [...graph.layers].filter((l) => l.class_name === "GlobalAveragePooling2D")) {
    const size = inputSizeOf(gap.name);
    if (!size || (gap.config.data_format ?? "channels_last") !== "channels_last" || gap.inbound_nodes.length !== 1)
      continue;
    const consumers = graph.layers.filter((l) => l.inbound_nodes.some((n) => n.some(([i]) => i === gap.name)));
    const reshape = consumers.length === 1 && graph.uses(gap.name) === 1 ? consumers[0] : undefined;
    const target = reshape?.class_name === "Reshape" ? (reshape.config.target_shape as number[]) : undefined;
    const squeezes = target !== undefined && target.length === 3 && target[0] === 1 && target[1] === 1;
    const pooling: LayerJson = {
      name: gap.name,
      class_name: "AveragePooling2D",
      config: {
        name: gap.name,
        trainable: false,
        pool_size: size,
        strides: size,
        padding: "valid",
        data_format: "channels_last",
      },
      inbound_nodes: gap.inbound_nodes,
    };
    graph.topology.config.layers = graph.layers.map((l) => (l === gap ? pooling : l));
    graph.byName.set(pooling.name, pooling);
    if (squeezes) graph.bypass(reshape!, pooling);
    else {
      // [batch, 1, 1, C] to the [batch, C] the global pooling gave.
      const flatten: LayerJson = {
        name: `${gap.name}_flatten`,
        class_name: "Flatten",
        config: { name: `${gap.name}_flatten`, trainable: false, data_format: "channels_last" },
        inbound_nodes: [[[pooling.name, 0, 0, {}]]],
      };
      for (const l of graph.layers)
        for (const node of l.inbound_nodes)
          for (const input of node) if (input[0] === gap.name) input[0] = flatten.name;
      for (const output of graph.topology.config.output_layers) if (output[0] === gap.name) output[0] = flatten.name;
      const at = graph.layers.indexOf(pooling);
      graph.topology.config.layers.splice(at + 1, 0, flatten);
      graph.byName.set(flatten.name, flatten);
    }
    counts.pools++;
  }
}

/**
 * The inference-only model of a saved one. `topology` is not modified (a copy is
 * rewritten). `inputSizeOf(layer)` is the [height, width] entering a layer, for merging
 * paddings; without it paddings stay.
 */
export function foldForInference(
  topology: object,
  weights: readonly NamedWeight[],
  inputSizeOf: (layer: string) => number[] | undefined = () => undefined,
): FoldResult {
  const copy = structuredClone(topology) as ModelTopologyJson;
  if (copy.class_name !== "Model" && copy.class_name !== "Functional")
    throw new Error(`only functional models fold (this one is a ${copy.class_name})`);
  const graph = new Graph(copy, weights);
  const counts: FoldCounts = { batchNorms: 0, activations: 0, dropouts: 0, preprocessing: 0, paddings: 0, pools: 0 };
  foldPreprocessing(graph, counts);
  removeDropouts(graph, counts);
  const unfoldedBatchNorms = foldBatchNorms(graph, counts);
  mergeActivations(graph, counts);
  mergePaddings(graph, counts, inputSizeOf);
  poolWindows(graph, counts, inputSizeOf);
  for (const l of graph.layers) if ("trainable" in l.config) l.config.trainable = false;
  // Each layer's weights in its own order (kernel before bias), as tfjs lists them.
  const ordered = [...graph.weights.values()].sort((a, b) => order(graph, a.name) - order(graph, b.name));
  return { topology: copy, weights: ordered, counts, unfoldedBatchNorms };
}

function order(graph: Graph, weightName: string): number {
  const layer = weightName.slice(0, weightName.lastIndexOf("/"));
  const index = graph.layers.findIndex((l) => l.name === layer);
  return index * 2 + (weightName.endsWith("/bias") ? 1 : 0);
}
