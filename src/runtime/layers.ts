import * as tf from "@tensorflow/tfjs";
import type { CustomLayerName } from "../vocabulary/custom-layers.ts";

/**
 * Layers that generated models need and tfjs lacks. The code between an `emit begin` and
 * its `emit end` marker is copied verbatim into every generated module that uses it
 * (src/codegen/emit.ts, HELPERS), and the same class is registered here, so
 * `effnet predict`, `train` and `weights` load the saved models that contain it, and a
 * module imports nothing but tfjs. One definition, two places it runs.
 */

// effnet:emit begin EffnetNormalization
/**
 * Per-channel (x − mean) / std over the last axis, for the convention's input
 * preprocessing. `stored: true` is Keras's Normalization (preprocessing/normalization.py):
 * mean, variance and count are non-trainable weights (7 parameters for RGB; loaded
 * weights replace the initial ImageNet statistics) and it divides by
 * max(sqrt(variance), 1e-7); `stored: false` is torchvision's transforms.Normalize, with
 * constants and no parameters. Registered with tf.serialization so saved models load.
 */
class EffnetNormalization extends tf.layers.Layer {
  static className = "EffnetNormalization";
  readonly mean: number[];
  readonly std: number[];
  readonly stored: boolean;
  private weightsOf?: { mean: tf.LayerVariable; variance: tf.LayerVariable };

  constructor(config: { name?: string; mean: number[]; std: number[]; stored: boolean }) {
    super(config);
    this.mean = config.mean;
    this.std = config.std;
    this.stored = config.stored;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    if (this.stored) {
      const c = this.mean.length;
      const variable = (name: string, shape: number[], values: number[]) => {
        const v = this.addWeight(name, shape, "float32", tf.initializers.zeros(), undefined, false);
        v.write(tf.tensor(values, shape));
        return v;
      };
      this.weightsOf = {
        mean: variable("mean", [c], this.mean),
        variance: variable(
          "variance",
          [c],
          this.std.map((s) => s * s),
        ),
      };
      variable("count", [], [0]);
    }
    super.build(inputShape);
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!this.weightsOf) return tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std));
      const { mean, variance } = this.weightsOf;
      return tf.div(tf.sub(x, mean.read()), tf.maximum(tf.sqrt(variance.read()), 1e-7));
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean, std: this.std, stored: this.stored };
  }
}
tf.serialization.registerClass(EffnetNormalization);
// effnet:emit end

// effnet:emit begin EffnetHardSwish
/**
 * Hard swish, x·relu6(x + 3)/6 (Howard et al. 2019, MobileNetV3, eq. 2; PyTorch
 * nn.Hardswish): tfjs has no such activation. Built from tf ops, so tfjs differentiates it
 * (relu6's gradient is a mask: wasm has the kernels). Registered so saved models load.
 */
class EffnetHardSwish extends tf.layers.Layer {
  static className = "EffnetHardSwish";
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
    });
  }
}
tf.serialization.registerClass(EffnetHardSwish);
// effnet:emit end

// effnet:emit begin EffnetHardSigmoid
/**
 * Hard sigmoid, relu6(x + 3)/6 (MobileNetV3's SE gate; PyTorch nn.Hardsigmoid). Not
 * tfjs's `hardSigmoid`, which is Keras 2's clip(0.2x + 0.5, 0, 1). Registered so saved models load.
 */
class EffnetHardSigmoid extends tf.layers.Layer {
  static className = "EffnetHardSigmoid";
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.div(tf.relu6(tf.add(Array.isArray(inputs) ? inputs[0] : inputs, 3)), 6));
  }
}
tf.serialization.registerClass(EffnetHardSigmoid);
// effnet:emit end

// effnet:emit begin EffnetGroupedConv2D
/**
 * Grouped convolution (torch.nn.Conv2d(groups=g), Keras Conv2D(groups=g); ResNeXt, RegNet):
 * tfjs's conv2d has no `groups`. One kernel [k, k, in / g, out] and one bias, named
 * `kernel` and `bias` as Conv2D's, so weights port by name; the call splits the input's
 * channels and the kernel's filters into g groups, convolves each pair and concatenates,
 * as the reference computes it. Built from tf ops, so tfjs differentiates it. Registered
 * so saved models load.
 */
type GroupedInitializer = ReturnType<typeof tf.initializers.zeros> | "zeros" | "ones";
const initializerOf = (i: GroupedInitializer) =>
  i === "zeros" ? tf.initializers.zeros() : i === "ones" ? tf.initializers.ones() : i;

class EffnetGroupedConv2D extends tf.layers.Layer {
  static className = "EffnetGroupedConv2D";
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: "same" | "valid";
  readonly useBias: boolean;
  readonly groups: number;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  // The generated module passes the convention's initialisers (src/codegen/initialization.ts).
  private readonly kernelInitializer: GroupedInitializer;
  private readonly biasInitializer: GroupedInitializer;

  constructor(config: {
    name?: string;
    filters: number;
    kernelSize: number;
    strides?: number;
    padding?: "same" | "valid";
    useBias?: boolean;
    groups: number;
    kernelInitializer?: GroupedInitializer;
    biasInitializer?: GroupedInitializer;
  }) {
    super(config);
    this.kernelInitializer = config.kernelInitializer ?? tf.initializers.glorotUniform({});
    this.biasInitializer = config.biasInitializer ?? "zeros";
    this.filters = config.filters;
    this.kernelSize = config.kernelSize;
    this.strides = config.strides ?? 1;
    this.padding = config.padding ?? "valid";
    this.useBias = config.useBias ?? true;
    this.groups = config.groups;
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
    const channels = shape[shape.length - 1];
    if (channels % this.groups !== 0 || this.filters % this.groups !== 0)
      throw new Error(`${this.name}: ${channels} → ${this.filters} channels do not split into ${this.groups} groups`);
    const k = this.kernelSize;
    this.kernel = this.addWeight(
      "kernel",
      [k, k, channels / this.groups, this.filters],
      "float32",
      initializerOf(this.kernelInitializer),
    );
    if (this.useBias)
      this.bias = this.addWeight("bias", [this.filters], "float32", initializerOf(this.biasInitializer));
    super.build(inputShape);
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const size = (n: number | null) =>
      n === null
        ? null
        : this.padding === "same"
          ? Math.ceil(n / this.strides)
          : Math.floor((n - this.kernelSize) / this.strides) + 1;
    return [batch, size(h), size(w), this.filters];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const xs = tf.split(x, this.groups, 3);
      const ks = tf.split(this.kernel!.read() as tf.Tensor4D, this.groups, 3);
      const ys = xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ks[i] as tf.Tensor4D, this.strides, this.padding));
      const y = tf.concat(ys, 3);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      useBias: this.useBias,
      groups: this.groups,
    };
  }
}
tf.serialization.registerClass(EffnetGroupedConv2D);
// effnet:emit end

/** Every custom layer, by its table name (src/vocabulary/custom-layers.ts): a name without a class here does not type-check. */
export const CUSTOM_LAYERS: { readonly [N in CustomLayerName]: typeof tf.layers.Layer } = {
  EffnetNormalization,
  EffnetHardSwish,
  EffnetHardSigmoid,
  EffnetGroupedConv2D,
};

export { EffnetNormalization };
