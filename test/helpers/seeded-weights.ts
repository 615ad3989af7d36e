import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "../../src/runtime/data.ts";

/**
 * Seeded weights by the rule of the equivalence tests (src/weights/transfer.ts
 * seededReferenceWeights): kernels uniform on ±√(3 / fan-in), γ in [0.5, 1.5], β and the
 * moving means in [−0.2, 0.2], moving variances in [0.5, 2], biases in [−0.1, 0.1]: batch
 * norms with real statistics to fold, and a network whose activations neither fade nor blow up.
 */
export function seedInferenceWeights(model: tf.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  const uniform = (n: number, lo: number, hi: number) => {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = lo + (hi - lo) * random();
    return values;
  };
  const range: Record<string, (shape: number[]) => [number, number]> = {
    kernel: (s) => bound(s.slice(0, -1).reduce((a, b) => a * b, 1)),
    depthwise_kernel: (s) => bound(s[0] * s[1]),
    gamma: () => [0.5, 1.5],
    beta: () => [-0.2, 0.2],
    moving_mean: () => [-0.2, 0.2],
    moving_variance: () => [0.5, 2],
    bias: () => [-0.1, 0.1],
  };
  const bound = (fanIn: number): [number, number] => [-Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn)];
  for (const layer of model.layers) {
    const names = layer.weights.map((w) => w.originalName.split("/").pop()!);
    if (names.length === 0 || !names.every((n) => n in range)) continue;
    const values = layer.weights.map((w, i) => {
      const shape = w.shape as number[];
      const [lo, hi] = range[names[i]](shape);
      return tf.tensor(
        uniform(
          shape.reduce((a, b) => a * b, 1),
          lo,
          hi,
        ),
        shape,
      );
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}
