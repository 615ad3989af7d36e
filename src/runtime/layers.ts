import * as tf from "@tensorflow/tfjs";

/**
 * Layers that generated models need and tfjs lacks. The code between an `emit begin` and
 * its `emit end` marker is copied verbatim into every generated module that uses it
 * (src/codegen/emit.ts, RUNTIME_LAYERS), and the same class is registered here, so
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

export { EffnetNormalization };
