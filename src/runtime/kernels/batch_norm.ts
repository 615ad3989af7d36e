/**
 * `FusedBatchNorm` (what tf.batchNorm and tfjs-layers' BatchNormalization
 * run) for tfjs-backend-wasm, as three broadcasting binary ops:
 *   y = (x − mean) · (scale · r) + offset,   r = 1/√(variance + ε)
 * i.e. tfjs's formula up to float32 rounding of the per-channel factor
 * scale·r. Subtracting the mean first (rather than folding it into the
 * offset, x·a + (offset − mean·a)) avoids cancellation when |mean| ≫ std.
 *
 * Why: wasm's FusedBatchNorm is a C++ per-element loop, while its Sub, Mul
 * and Add with a per-channel operand run on XNNPACK, several times faster at
 * every activation size of EfficientNet-B0, in training and inference alike
 * (bench/kernels.ts measures it).
 *
 * Falls back to the original kernel unless x is a float32 rank-4 tensor and
 * every statistic holds one value per channel ([C], [1, 1, 1, C], ...).
 */
import * as tf from "@tensorflow/tfjs";
import type { FusedBatchNormAttrs, KernelBackend, KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import { runCompositeKernel } from "./composite.ts";

type Inputs = { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo };

const isPerChannel = (t: TensorInfo, channels: number) =>
  t.dtype === "float32" && tf.util.sizeFromShape(t.shape) === channels && t.shape[t.shape.length - 1] === channels;

export function makeWasmBatchNorm(original: () => KernelFunc): KernelFunc {
  function batchNorm(args: { inputs: Inputs; backend: KernelBackend; attrs: FusedBatchNormAttrs }): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { x, mean, variance, offset, scale } = inputs;
    const channels = x.shape[x.shape.length - 1];
    const supported =
      x.shape.length === 4 &&
      x.dtype === "float32" &&
      tf.util.sizeFromShape(x.shape) > 0 &&
      [mean, variance, offset, scale].every((t) => t == null || isPerChannel(t, channels));
    if (!supported) return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const present: Record<string, TensorInfo> = { x, mean, variance };
    if (offset != null) present.offset = offset;
    if (scale != null) present.scale = scale;
    return runCompositeKernel(backend, present, (t) => {
      const perChannel = (v: tf.Tensor) => tf.reshape(v, [channels]);
      const r = tf.rsqrt(tf.add(perChannel(t.variance), tf.scalar(attrs.varianceEpsilon)));
      const factor = t.scale == null ? r : tf.mul(r, perChannel(t.scale));
      const scaled = tf.mul(tf.sub(t.x, perChannel(t.mean)), factor);
      return t.offset == null ? scaled : tf.add(scaled, perChannel(t.offset));
    });
  }
  return batchNorm as unknown as KernelFunc;
}
