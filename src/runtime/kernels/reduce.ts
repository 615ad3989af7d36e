/**
 * Per-channel sums over the batch and spatial axes of an NHWC tensor, the
 * reduction that normalisation gradients end in.
 *
 * Why not `tf.sum(t, [0, 1, 2])`: tfjs-backend-wasm 4.22's Sum kernel
 * (kernels/Sum.js) only reduces innermost axes, so for leading axes it first
 * transposes the whole tensor (`permuteAxesAndTranspose`); tfjs-backend-cpu's
 * Sum does the same. Of the three ways to sum over leading axes on wasm,
 * tf.sum, a matMul with a row of ones, and a global average pool scaled by H·W,
 * the pool is several times the fastest (bench/kernels.ts measures them).
 * (The matMul is slow because wasm's BatchMatMul hands its right operand to
 * XNNPACK as fully-connected *weights*, which are packed anew for every new
 * tensor.) A global average pool is XNNPACK's NHWC average pooling, which
 * reduces over positions with channels contiguous — no transpose. Multiplying
 * the mean back by the window size and summing the N per-image results
 * differs from a plain sum only in float32 rounding (a relative ≈1e-7).
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Tensor4D } from "@tensorflow/tfjs";

/**
 * `t` summed over `axes` (reduced dims dropped, as tf.sum does). The NHWC
 * per-channel cases of a rank-4 float32 tensor — axes [0, 1, 2], and the
 * per-image [1, 2] — go through a global average pool (see header); anything
 * else is tf.sum.
 */
export function sumOverAxes(t: Tensor, axes: number[]): Tensor {
  if (axes.length === 0) return t;
  const sorted = [...axes].sort((a, b) => a - b);
  const perChannel = t.rank === 4 && sorted.length === 3 && sorted.every((axis, i) => axis === i);
  const perImage = t.rank === 4 && sorted.length === 2 && sorted[0] === 1 && sorted[1] === 2;
  if (!(perChannel || perImage) || t.dtype !== "float32") return tf.sum(t, axes);
  const [batch, height, width, channels] = t.shape;
  if (height * width === 1) return tf.sum(t, axes); // nothing to pool
  const perImageSums = tf.mul(tf.avgPool(t as Tensor4D, [height, width], 1, "valid"), tf.scalar(height * width)); // [N, 1, 1, C]
  if (perImage) return tf.reshape(perImageSums, [batch, channels]);
  return tf.sum(perImageSums, [0, 1, 2]);
}
