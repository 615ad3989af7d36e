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
    },
  ): Tensor {
    const [h, w, c] = x.shape;
    const strides = o.strides ?? 1;
    const padding = o.padding ?? "same";
    const useBias = o.useBias ?? false;
    const weights: Weight[] = [trainable("kernel", [o.kernel, o.kernel, c, o.filters])];
    if (useBias) weights.push(trainable("bias", [o.filters]));
    return this.add(
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
        activation: o.activation ?? "linear",
      },
      weights,
    );
  }

  depthwiseConv2d(
    name: string,
    x: Tensor,
    o: { kernel: number; strides?: number; padding?: Padding; depthMultiplier?: number },
  ): Tensor {
    const [h, w, c] = x.shape;
    const strides = o.strides ?? 1;
    const padding = o.padding ?? "same";
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
    const [h, w, c] = x.shape;
    const padding = o.padding ?? "same";
    return this.add(
      "maxPool",
      name,
      [x],
      [spatial(h, o.pool, o.strides, padding), spatial(w, o.pool, o.strides, padding), c],
      { ...o, padding },
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
    return this.add(
      "dense",
      name,
      [x],
      [o.units],
      { units: o.units, useBias, activation: o.activation ?? "linear" },
      weights,
    );
  }
}

function trainable(name: string, shape: Shape): Weight {
  return { name, shape, trainable: true };
}

/**
 * Output size of a strided window. `same` is TensorFlow's: ceil(n / stride), with the
 * extra padding row at the bottom/right; for the reference's stride-2 layers that equals
 * Keras's explicit ZeroPadding2D(correct_pad) + `valid` (same output, same pixels).
 */
export function spatial(n: number, kernel: number, strides: number, padding: Padding): number {
  return padding === "same" ? Math.ceil(n / strides) : Math.floor((n - kernel) / strides) + 1;
}

function broadcast(a: Shape, b: Shape): Shape {
  return a.length >= b.length ? a.map((d, i) => Math.max(d, b[i - (a.length - b.length)] ?? 1)) : broadcast(b, a);
}
