import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "../../src/runtime/data.ts";

/**
 * A small network of effnet's operators that learns the shapes data set in seconds: its
 * 8×8 last feature map (at 32 px) is fine enough for class activation maps.
 */
export const SMALL_NET_SPEC = `network SmallNet {
  input 32x32x3
  classes 3
  activation relu
  convention torchvision
  stages {
    | Operator               | Resolution | Channels | Layers |
    | Conv3x3                | 32x32      | 16       | 1      |
    | MBConv4, k3x3          | 16x16      | 24       | 2      |
    | MBConv4, k3x3          | 8x8        | 32       | 2      |
    | Conv1x1 & Pooling & FC | 8x8        | 64       | 1      |
  }
}
`;

/**
 * Replaces a model's initial weights by seeded ones (Glorot-uniform kernels, zero biases
 * and β, unit γ and variances), so a test that trains compares runs, not initialisations:
 * tfjs's initialisers draw from an unseeded generator.
 */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const name = w.originalName.split("/").pop()!;
      const n = shape.reduce((a, b) => a * b, 1);
      if (name === "kernel" || name === "depthwise_kernel") {
        const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
        const [fanIn, fanOut] = [receptive * shape.at(-2)!, receptive * shape.at(-1)!];
        const bound = Math.sqrt(6 / (fanIn + fanOut));
        return tf.tensor(
          Float32Array.from({ length: n }, () => (2 * random() - 1) * bound),
          shape,
        );
      }
      return tf.fill(shape, name === "gamma" || name === "moving_variance" ? 1 : 0);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}
