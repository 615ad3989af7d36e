import { PADDING_RULES, WINDOW_PADDINGS, type PaddedWindow, type PaddingRuleName } from "../vocabulary/conventions.ts";
import { builtinActivation } from "../vocabulary/activations.ts";
import type { Activation, Layer, LayerAttrs, LayerKind, Padding, Shape, Weight } from "./ir.ts";

/** What the builder hands back for a layer: its name and output shape. */
export interface Tensor {
  readonly name: string;
  readonly shape: Shape;
}

/**
 * Builds the layer list with shape inference, one method per primitive layer kind.
 * Operators (src/operators) lower a stage into calls on this builder; they never build
 * Layer objects themselves, so every shape and weight rule is written once, here.
 */
export class LayerBuilder {
  readonly layers: Layer[] = [];
  stage = 0;
  /** The repeat of the stage's operator being lowered (lower.ts sets it). */
  block = 0;

  /** `paddingRule`: how strided k×k windows pad (src/vocabulary/conventions.ts, PADDING_RULES). */
  constructor(readonly paddingRule: PaddingRuleName = "keras") {}

  /**
   * A strided k×k window pads explicitly, as the references do (Keras efficientnet.py:
   * ZeroPadding2D(correct_pad(x, k)) then a `valid` conv; torchvision: padding=(k-1)//2;
   * Keras mobilenet.py's depthwise blocks ((0, 1), (0, 1))), by the padding rule's entry for
   * the `window`, and is then `valid`. Stride-1 windows stay `same`, which is symmetric for
   * odd k in all of them. Max pooling pads with −∞ in TensorFlow and PyTorch; zeros give the
   * same maxima only when the input is non-negative (after ReLU, as Keras's resnet.py relies
   * on), so a pool whose padding is TensorFlow's `same` (correct_pad) stays `same` and only
   * another padding is explicit.
   */
  private padFor(
    name: string,
    x: Tensor,
    kernel: number,
    strides: number,
    requested: Padding | undefined,
    window: PaddedWindow,
  ): { x: Tensor; padding: Padding } {
    if (requested !== undefined || strides === 1 || kernel === 1) return { x, padding: requested ?? "same" };
    const rule = PADDING_RULES[this.paddingRule].windows[window];
    if (window === "pool" && rule === "correct_pad") return { x, padding: "same" };
    const [h, w, c] = x.shape;
    const padding = [WINDOW_PADDINGS[rule].pads(h, kernel), WINDOW_PADDINGS[rule].pads(w, kernel)] as const;
    const padded = this.add(
      "zeroPadding2d",
      `${name}_pad`,
      [x],
      [h + padding[0][0] + padding[0][1], w + padding[1][0] + padding[1][1], c],
      { padding, rule, kernel },
    );
    return { x: padded, padding: "valid" };
  }

  private add<K extends LayerKind>(
    kind: K,
    name: string,
    inputs: Tensor[],
    outputShape: Shape,
    attrs: LayerAttrs[K],
    weights: Weight[] = [],
  ): Tensor {
    this.layers.push({
      kind,
      name,
      inputs: inputs.map((t) => t.name),
      outputShape,
      weights,
      attrs,
      stage: this.stage,
      block: this.block,
    } as unknown as Layer);
    return { name, shape: outputShape };
  }

  input(name: string, shape: Shape): Tensor {
    return this.add("input", name, [], shape, { shape });
  }

  rescaling(name: string, x: Tensor, scale: number, offset = 0): Tensor {
    return this.add("rescaling", name, [x], x.shape, { scale, offset });
  }

  /** Per-channel (x − mean) / std; `stored` keeps Keras's mean, variance and count weights (non-trainable). */
  normalization(
    name: string,
    x: Tensor,
    o: { mean: readonly number[]; std: readonly number[]; stored: boolean },
  ): Tensor {
    const c = x.shape[x.shape.length - 1];
    if (o.mean.length !== c || o.std.length !== c)
      throw new Error(`ir: normalization statistics for ${o.mean.length} channels on a ${c}-channel input`);
    const weights: Weight[] = o.stored
      ? [
          { name: "mean", shape: [c], trainable: false },
          { name: "variance", shape: [c], trainable: false },
          { name: "count", shape: [], trainable: false },
        ]
      : [];
    return this.add(
      "normalization",
      name,
      [x],
      x.shape,
      { mean: [...o.mean], std: [...o.std], stored: o.stored },
      weights,
    );
  }

  conv2d(
    name: string,
    x: Tensor,
    o: {
      filters: number;
      kernel: number;
      strides?: number;
      useBias?: boolean;
      activation?: Activation;
      padding?: Padding;
      /** Grouped convolution (torch.nn.Conv2d's groups, Keras Conv2D's): each group of input channels feeds its own filters. */
      groups?: number;
    },
  ): Tensor {
    const strides = o.strides ?? 1;
    const groups = o.groups ?? 1;
    const padded = this.padFor(name, x, o.kernel, strides, o.padding, "conv");
    x = padded.x;
    const padding = padded.padding;
    const [h, w, c] = x.shape;
    const useBias = o.useBias ?? false;
    if (c % groups !== 0 || o.filters % groups !== 0)
      throw new Error(`ir: ${name}: ${c} → ${o.filters} channels cannot be split into ${groups} groups`);
    const weights: Weight[] = [trainable("kernel", [o.kernel, o.kernel, c / groups, o.filters])];
    if (useBias) weights.push(trainable("bias", [o.filters]));
    const { fused, after } = this.fusable(o.activation, groups === 1);
    const y = this.add(
      "conv2d",
      name,
      [x],
      [spatial(h, o.kernel, strides, padding), spatial(w, o.kernel, strides, padding), o.filters],
      {
        filters: o.filters,
        kernel: o.kernel,
        strides,
        padding,
        useBias,
        activation: fused,
        groups,
      },
      weights,
    );
    return after ? this.activation(`${name}_activation`, y, after) : y;
  }

  /**
   * A conv's or dense layer's activation goes into the layer when tfjs has it built in;
   * one that needs its own layer (src/vocabulary/activations.ts) follows as `NAME_activation`, as
   * does any after a grouped convolution (its custom layer has no activation field).
   */
  private fusable(activation: Activation | undefined, canFuse = true): { fused: Activation; after?: Activation } {
    const a = activation ?? "linear";
    return a === "linear" || (canFuse && builtinActivation(a) !== undefined)
      ? { fused: a }
      : { fused: "linear", after: a };
  }

  depthwiseConv2d(
    name: string,
    x: Tensor,
    o: { kernel: number; strides?: number; padding?: Padding; depthMultiplier?: number },
  ): Tensor {
    const strides = o.strides ?? 1;
    const padded = this.padFor(name, x, o.kernel, strides, o.padding, "depthwise");
    x = padded.x;
    const padding = padded.padding;
    const [h, w, c] = x.shape;
    const depthMultiplier = o.depthMultiplier ?? 1;
    return this.add(
      "depthwiseConv2d",
      name,
      [x],
      [spatial(h, o.kernel, strides, padding), spatial(w, o.kernel, strides, padding), c * depthMultiplier],
      { kernel: o.kernel, strides, padding, depthMultiplier, useBias: false },
      [trainable("depthwise_kernel", [o.kernel, o.kernel, c, depthMultiplier])],
    );
  }

  /** Batch norm over the last axis: gamma and beta train; the moving statistics do not. */
  batchNorm(name: string, x: Tensor, o: { momentum: number; epsilon: number }): Tensor {
    const c = x.shape[x.shape.length - 1];
    return this.add("batchNorm", name, [x], x.shape, o, [
      trainable("gamma", [c]),
      trainable("beta", [c]),
      { name: "moving_mean", shape: [c], trainable: false },
      { name: "moving_variance", shape: [c], trainable: false },
    ]);
  }

  activation(name: string, x: Tensor, activation: Activation): Tensor {
    return this.add("activation", name, [x], x.shape, { activation });
  }

  globalAvgPool(name: string, x: Tensor, keepDims = false): Tensor {
    const c = x.shape[x.shape.length - 1];
    return this.add("globalAvgPool", name, [x], keepDims ? [1, 1, c] : [c], { keepDims });
  }

  maxPool(name: string, x: Tensor, o: { pool: number; strides: number; padding?: Padding }): Tensor {
    const padded = this.padFor(name, x, o.pool, o.strides, o.padding, "pool");
    x = padded.x;
    const padding = padded.padding;
    const [h, w, c] = x.shape;
    return this.add(
      "maxPool",
      name,
      [x],
      [spatial(h, o.pool, o.strides, padding), spatial(w, o.pool, o.strides, padding), c],
      { pool: o.pool, strides: o.strides, padding },
    );
  }

  reshape(name: string, x: Tensor, targetShape: Shape): Tensor {
    return this.add("reshape", name, [x], targetShape, { targetShape });
  }

  multiply(name: string, a: Tensor, b: Tensor): Tensor {
    return this.add("multiply", name, [a, b], broadcast(a.shape, b.shape), {});
  }

  addTensors(name: string, a: Tensor, b: Tensor): Tensor {
    return this.add("add", name, [a, b], broadcast(a.shape, b.shape), {});
  }

  dropout(name: string, x: Tensor, rate: number, perSample = false): Tensor {
    return this.add("dropout", name, [x], x.shape, { rate, perSample });
  }

  dense(name: string, x: Tensor, o: { units: number; useBias?: boolean; activation?: Activation }): Tensor {
    const useBias = o.useBias ?? true;
    const weights: Weight[] = [trainable("kernel", [x.shape[x.shape.length - 1], o.units])];
    if (useBias) weights.push(trainable("bias", [o.units]));
    const { fused, after } = this.fusable(o.activation);
    const y = this.add("dense", name, [x], [o.units], { units: o.units, useBias, activation: fused }, weights);
    return after ? this.activation(`${name}_activation`, y, after) : y;
  }
}

function trainable(name: string, shape: Shape): Weight {
  return { name, shape, trainable: true };
}

/**
 * Output size of a window. `same` is TensorFlow's: ceil(n / stride); strided k×k windows
 * arrive here already padded explicitly (padFor) and `valid`.
 */
export function spatial(n: number, kernel: number, strides: number, padding: Padding): number {
  return padding === "same" ? Math.ceil(n / strides) : Math.floor((n - kernel) / strides) + 1;
}

function broadcast(a: Shape, b: Shape): Shape {
  return a.length >= b.length ? a.map((d, i) => Math.max(d, b[i - (a.length - b.length)] ?? 1)) : broadcast(b, a);
}
