/**
 * `DepthwiseConv2dNativeBackpropFilter` (tfjs kernel name; TF op of the same
 * name): gradient of a depthwise convolution with respect to its filter.
 *
 * Math. Forward (NHWC, undilated, channel multiplier M, filter [R, C, K, M]):
 *   y[n, i, j, k·M + m] = Σ_{r, c} xPadded[n, i*sH + r, j*sW + c, k] · w[r, c, k, m]
 * so
 *   dw[r, c, k, m] = Σ_{n, i, j} xPadded[n, i*sH + r, j*sW + c, k] · dy[n, i, j, k·M + m]
 * Each channel only meets its own dy channel, so unlike a full convolution
 * there is no channel contraction to hand to a matMul: for each filter tap,
 * with that tap's im2col patch matrix P_t [rows, K] (see `extractTapMatrices`)
 * and dy on the same rows D [rows, K·M], it is an elementwise product
 * followed by a sum over the rows (batch and spatial positions).
 * Taps are done one at a time (each in its own tidy) so only one patch
 * matrix and one product are alive at once.
 *
 * That is the 'taps' method (used on cpu).
 *
 * The 'depthwiseConv' method (used on wasm) reads the same sum as a
 * convolution in which dy is the filter: for each image n,
 *   dw_n[r, c, k, m] = Σ_{i, j} xPadded[n, r + s·i, c + s·j, k] · dy[n, i, j, k·M + m]
 * is a depthwise convolution of xPadded[n] ([1, Hp, Wp, K]) with the filter
 * dy[n] reshaped to [OH, OW, K, M], stride 1 and *dilation* s (the forward
 * stride), whose output is the R×C filter window; dw = Σ_n dw_n. The padding
 * is passed to the convolution as explicit padding, so x is never copied
 * except to split the batch. On tfjs-backend-wasm this runs on XNNPACK's
 * convolution and needs no patch matrices, transposes or per-tap slices —
 * which together were a large share of an EfficientNet-B0 training step
 * (bench/kernels.ts has the per-kernel table).
 *
 * The 'pooledTaps' method (used on wasm where the SIMD loop of depthwise_simd.ts
 * does not apply, channel multiplier 1; M > 1 falls back to 'depthwiseConv') is the 'taps' sum in NHWC: per tap, the patch
 * matrix P_t [rows, K] (rowsMajor: a contiguous row range, one memcpy) times
 * dy on the same rows, viewed as the NHWC grid [N, Hq, Wq, K], summed over
 * positions by a global average pool (`sumOverAxes`: XNNPACK, channels
 * contiguous, no transpose). Rows off the output grid have zero dy. It is faster
 * than the tap-by-tap method at every EfficientNet-B0 shape (bench/kernels.ts,
 * which measures both, with the Slice kernel of slice.ts that both rely on).
 *
 * Memory: dw is a sum over images, so large batches run a few images at a
 * time (chunks.ts), which bounds the intermediates whatever the batch.
 *
 * tfjs-backend-wasm 4.22 has no kernel for this op; tfjs-backend-cpu's is a
 * scalar loop with TensorBuffer.get per term.
 */
import * as tf from "@tensorflow/tfjs";
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelBackend,
  KernelFunc,
  Tensor,
  Tensor2D,
  Tensor4D,
  TensorInfo,
} from "@tensorflow/tfjs";
import { imageBytes, sumOverImageChunks } from "./chunks.ts";
import { runCompositeKernel } from "./composite.ts";
import { sumOverAxes } from "./reduce.ts";
import {
  assertNoDilation,
  computeWindowGeometry,
  extractTapMatrices,
  fitToOutputSize,
  padOrCropSpatial,
  type TapLayout,
  type WindowGeometry,
} from "./geometry.ts";

export type DepthwiseConv2dBackpropFilterOptions =
  /** Per-tap patch matrices; see `TapLayout` for why the layout is per backend. */
  | { method: "taps"; tapLayout: TapLayout }
  /** One depthwise convolution per image with dy as the filter. */
  | { method: "depthwiseConv" }
  /** Per-tap products in NHWC, summed over positions by average pooling. */
  | { method: "pooledTaps" };

/** The 'pooledTaps' method (see header). Channel multiplier 1 only. */
function filterGradientByPooledTaps(x: Tensor4D, dy: Tensor4D, g: WindowGeometry, filterShape: number[]): Tensor {
  const patches = extractTapMatrices(x, g, "rowsMajor");
  const channels = g.inChannels;
  const gridShape = [...patches.grid, channels];
  const dyRows = patches.alignWithTaps(dy); // [rows, K], zero off the output grid
  const perTap: Tensor[] = [];
  for (let t = 0; t < patches.count; t++) {
    perTap.push(
      tf.tidy(() => {
        const products = tf.reshape(tf.mul(patches.tap(t), dyRows), gridShape);
        return tf.reshape(sumOverAxes(products, [0, 1, 2]), [1, channels]);
      }),
    );
  }
  return tf.reshape(tf.concat(perTap, 0), filterShape);
}

/** The 'depthwiseConv' method (see header). */
function filterGradientByConvolution(x: Tensor4D, dy: Tensor4D, g: WindowGeometry, filterShape: number[]): Tensor {
  const fitted = fitToOutputSize(dy, g); // [N, OH, OW, K·M]
  const [, , channels, multiplier] = filterShape;
  // Extent of xPadded that the windows read, per axis: R + s·(OH-1).
  const spanHeight = g.filterHeight + g.strideHeight * (g.outHeight - 1);
  const spanWidth = g.filterWidth + g.strideWidth * (g.outWidth - 1);
  let input = x;
  let bottom = spanHeight - g.inHeight - g.padTop;
  let right = spanWidth - g.inWidth - g.padLeft;
  if (bottom < 0 || right < 0) {
    // Trailing rows/columns that no window reads: crop them (explicit padding cannot be negative).
    input = padOrCropSpatial(x, [0, Math.min(0, bottom)], [0, Math.min(0, right)]);
    bottom = Math.max(0, bottom);
    right = Math.max(0, right);
  }
  const padding: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [g.padTop, bottom],
    [g.padLeft, right],
    [0, 0],
  ];
  let sum: Tensor | undefined;
  for (let n = 0; n < g.batchSize; n++) {
    const image = tf.slice(input, [n, 0, 0, 0], [1, -1, -1, -1]) as Tensor4D;
    const dyAsFilter = tf.reshape(tf.slice(fitted, [n, 0, 0, 0], [1, -1, -1, -1]), [
      g.outHeight,
      g.outWidth,
      channels,
      multiplier,
    ]) as Tensor4D;
    const perImage = tf.depthwiseConv2d(image, dyAsFilter, 1, padding, "NHWC", [g.strideHeight, g.strideWidth]);
    sum = sum === undefined ? perImage : tf.add(sum, perImage);
  }
  // [1, R, C, K·M], channel k·M + m, is the filter layout [R, C, K, M].
  return tf.reshape(sum!, filterShape);
}

export function makeDepthwiseConv2dBackpropFilter(options: DepthwiseConv2dBackpropFilterOptions): KernelFunc {
  function depthwiseConv2dBackpropFilter(args: {
    inputs: { x: TensorInfo; dy: TensorInfo };
    backend: KernelBackend;
    attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
  }): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
    assertNoDilation("DepthwiseConv2dNativeBackpropFilter", dilations);

    return runCompositeKernel(backend, { x: inputs.x, dy: inputs.dy }, (tensors) => {
      const x = tensors.x as Tensor4D;
      const dy = tensors.dy as Tensor4D;
      // Per image: about four copies of x (padding, phases, the flat matrix, one tap) and three of dy.
      const bytesPerImage = 4 * imageBytes(x) + 3 * imageBytes(dy);
      return sumOverImageChunks([x, dy], bytesPerImage, (xChunk, dyChunk) => {
        const geometry = computeWindowGeometry(xChunk.shape, filterShape, strides, pad, dimRoundingMode, true);
        return filterGradient(xChunk, dyChunk, geometry, filterShape, options);
      });
    });
  }
  return depthwiseConv2dBackpropFilter as unknown as KernelFunc;
}

function filterGradient(
  x: Tensor4D,
  dy: Tensor4D,
  geometry: WindowGeometry,
  filterShape: [number, number, number, number],
  options: DepthwiseConv2dBackpropFilterOptions,
): Tensor {
  if (options.method === "pooledTaps" && filterShape[3] === 1) {
    return filterGradientByPooledTaps(x, dy, geometry, filterShape);
  }
  if (options.method === "depthwiseConv" || options.method === "pooledTaps") {
    return filterGradientByConvolution(x, dy, geometry, filterShape);
  }
  const { tapLayout } = options;
  const [, , channels, multiplier] = filterShape;
  const patches = extractTapMatrices(x, geometry, tapLayout);
  const rows = patches.rows;
  const dyRows = patches.alignWithTaps(dy); // [rows, K·M], channel k·M + m
  const perTap: Tensor[] = [];
  if (tapLayout === "rowsMajor") {
    // Σ over rows as 1ᵀ·product, a [1 × rows]·[rows × K·M] matMul:
    // tfjs-backend-cpu's Sum over a leading axis would first transpose the
    // whole product in a per-element loop (~4x slower).
    const ones = tf.ones([1, rows]) as Tensor2D;
    for (let t = 0; t < patches.count; t++) {
      perTap.push(
        tf.tidy(() => {
          const tap = patches.tap(t); // [rows, K]
          // Same-shape multiply when M = 1; broadcast each input channel
          // over its M outputs otherwise (tfjs-backend-cpu's broadcasting
          // Multiply is slow, but M > 1 is rare in the nets effnet builds).
          const products =
            multiplier === 1
              ? tf.mul(tap, dyRows)
              : tf.reshape(
                  tf.mul(tf.reshape(tap, [rows, channels, 1]), tf.reshape(dyRows, [rows, channels, multiplier])),
                  [rows, channels * multiplier],
                );
          return tf.matMul(ones, products as Tensor2D); // [1, K·M]
        }),
      );
    }
  } else {
    // Positions innermost: the row sum is an innermost-axis reduction.
    const dyColumns = tf.reshape(tf.transpose(dyRows), [channels, multiplier, rows]);
    for (let t = 0; t < patches.count; t++) {
      perTap.push(
        tf.tidy(() => {
          const tap = tf.reshape(patches.tap(t), [channels, 1, rows]);
          return tf.reshape(tf.sum(tf.mul(tap, dyColumns), 2), [1, channels * multiplier]);
        }),
      );
    }
  }
  return tf.reshape(tf.concat(perTap, 0), filterShape);
}
