/**
 * Window geometry of a 2-D convolution, and im2col patch extraction.
 *
 * The padding/output-size arithmetic is delegated to tfjs's own
 * `backend_util.computeConv2DInfo` (the same call the original cpu kernels
 * make), so 'same', 'valid', a numeric pad with `dimRoundingMode`, and
 * explicit `[[0,0],[top,bottom],[left,right],[0,0]]` padding all produce
 * exactly the windows the forward pass used.
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Tensor2D, Tensor4D } from "@tensorflow/tfjs";

type Pad = "valid" | "same" | number | tf.backend_util.ExplicitPadding;
type DimRoundingMode = "floor" | "round" | "ceil" | undefined;

/** Everything needed to enumerate the windows of an NHWC convolution. */
export interface WindowGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

function pairOf(value: number | [number, number] | undefined): [number, number] {
  if (value == null) return [1, 1];
  return typeof value === "number" ? [value, value] : value;
}

/**
 * Our kernels implement undilated convolutions only. tfjs's own gradient
 * functions (Conv2D_grad, DepthwiseConv2dNative_grad) already refuse dilation
 * > 1, so this only triggers for direct `runKernel` calls; failing loudly is
 * better than silently returning the gradient of a different convolution.
 */
export function assertNoDilation(kernelName: string, dilations: number | [number, number] | undefined): void {
  const [dilationHeight, dilationWidth] = pairOf(dilations);
  if (dilationHeight !== 1 || dilationWidth !== 1) {
    throw new Error(
      `${kernelName}: dilations [${dilationHeight}, ${dilationWidth}] are not supported by effnet's ` +
        `training kernels (only dilation 1). tfjs itself does not support gradients of dilated ` +
        `convolutions either; use an undilated convolution in trainable layers.`,
    );
  }
}

/**
 * Geometry of a convolution over an input of `inputShape` (NHWC, or NCHW when
 * `channelsFirst`: explicit padding is read from the matching axes) with a
 * filter of spatial size `filterHeight`×`filterWidth`. `depthwise` only
 * changes how computeConv2DInfo reads the filter's channel dims.
 */
export function computeWindowGeometry(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode: DimRoundingMode,
  depthwise: boolean,
  channelsFirst = false,
): WindowGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    1 /* dilations */,
    pad,
    dimRoundingMode,
    depthwise,
    channelsFirst ? "channelsFirst" : "channelsLast",
  );
  return {
    batchSize: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Appends `before` and `after` zero slices along `axis`, by concatenation:
 * tfjs-backend-cpu's PadV2 is a per-element loop with index arithmetic
 * (≈6x slower than Concat's row copies at 8x64x64x32); on wasm Concat is
 * also slightly faster than PadV2.
 */
function concatZeros(x: Tensor, axis: number, before: number, after: number): Tensor {
  if (before === 0 && after === 0) return x;
  const zerosOf = (length: number) => tf.zeros(x.shape.map((size, i) => (i === axis ? length : size)));
  const parts = [...(before > 0 ? [zerosOf(before)] : []), x, ...(after > 0 ? [zerosOf(after)] : [])];
  return tf.concat(parts, axis);
}

/**
 * Zero-pads (positive amounts) or crops (negative amounts) the two spatial
 * axes of an NHWC tensor. Cropping is needed when explicit padding exceeds
 * `filter - 1`, or when trailing input rows are never covered by a window.
 */
export function padOrCropSpatial(
  x: Tensor4D,
  [top, bottom]: [number, number],
  [left, right]: [number, number],
): Tensor4D {
  const [batch, height, width, channels] = x.shape;
  let result: Tensor = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const cropTop = Math.max(0, -top);
    const cropLeft = Math.max(0, -left);
    result = tf.slice(
      result,
      [0, cropTop, cropLeft, 0],
      [batch, height - cropTop - Math.max(0, -bottom), width - cropLeft - Math.max(0, -right), channels],
    );
  }
  result = concatZeros(result, 1, Math.max(0, top), Math.max(0, bottom));
  result = concatZeros(result, 2, Math.max(0, left), Math.max(0, right));
  return result as Tensor4D;
}

/**
 * Crops (or zero-extends) dy to the output size that the kernel's attrs
 * describe. They differ in one known case: tfjs-core 4.22's Conv2D_grad does
 * not pass `dimRoundingMode` on to Conv2DBackpropFilter/Input, so with a
 * numeric pad and 'ceil' rounding dy has one more row/column than the attrs
 * imply. tfjs-backend-cpu's kernels then ignore the extra dy entries (their
 * loops stop at convInfo.outHeight/outWidth); we do the same, so every kernel
 * of one gradient agrees (wasm's native Conv2DBackpropInput does too).
 */
export function fitToOutputSize(outputShaped: Tensor4D, g: WindowGeometry): Tensor4D {
  const [, height, width] = outputShaped.shape;
  return padOrCropSpatial(outputShaped, [0, g.outHeight - height], [0, g.outWidth - width]);
}

/** Inserts strideHeight-1 / strideWidth-1 zeros after every row / column. */
function insertZerosBetween(dy: Tensor4D, strideHeight: number, strideWidth: number): Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return dy;
  const [batch, height, width, channels] = dy.shape;
  // [N, H, 1, W, 1, C] padded to [N, H, sH, W, sW, C] puts each value at the
  // start of an sH×sW block of zeros; flattening interleaves them.
  const spread = tf.pad(tf.reshape(dy, [batch, height, 1, width, 1, channels]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [batch, height * strideHeight, width * strideWidth, channels]);
}

/**
 * The input Z of the "transposed convolution" identity used by the input
 * gradients. Per spatial axis (the other is analogous), forward with stride
 * s, top padding t and filter taps r = 0..R-1:
 *   y[i] = Σ_r xPadded[i·s + r] · w[r],   xPadded[p] = x[p - t]
 * so
 *   dx[h] = Σ_{i, r : i·s + r = h + t} dy[i] · w[r]
 * Let dyDilated be dy with s-1 zeros inserted after every element
 * (dyDilated[q] = dy[q/s] when s divides q, else 0). Then
 *   dx[h] = Σ_r dyDilated[h + t - r] · w[r]
 *         = Σ_r' Z[h + r'] · wFlipped[r'],   wFlipped[r'] = w[R-1-r'],
 * where Z is dyDilated shifted right by R-1-t (zero-padded in front) and
 * padded/cropped at the back to length H + R - 1: dx is a stride-1 'valid'
 * convolution of Z with the spatially flipped filter. Returns Z,
 * [N, inHeight + R - 1, inWidth + C - 1, channels of dy].
 */
export function transposedConvolutionInput(dy: Tensor4D, g: WindowGeometry): Tensor4D {
  const dilated = insertZerosBetween(fitToOutputSize(dy, g), g.strideHeight, g.strideWidth);
  const frontHeight = g.filterHeight - 1 - g.padTop;
  const frontWidth = g.filterWidth - 1 - g.padLeft;
  return padOrCropSpatial(
    dilated,
    [frontHeight, g.inHeight + g.filterHeight - 1 - frontHeight - dilated.shape[1]],
    [frontWidth, g.inWidth + g.filterWidth - 1 - frontWidth - dilated.shape[2]],
  );
}

/**
 * The same stride-1 'valid' convolution input as `transposedConvolutionInput`,
 * but with Z's zero border left to the convolution as explicit padding where
 * possible (no cropping needed): the forward convolution kernels pad on the fly
 * (XNNPACK's indirection buffer), which saves materialising Z's border — two
 * full-size concatenations per call. At stride 1 the input is dy itself; at
 * stride s > 1 it is dy dilated (s-1 zeros after every entry, one copy).
 * Otherwise returns Z and 'valid'.
 */
export function transposedConvolutionOperands(
  dy: Tensor4D,
  g: WindowGeometry,
): { input: Tensor4D; padding: "valid" | tf.backend_util.ExplicitPadding } {
  const frontHeight = g.filterHeight - 1 - g.padTop;
  const frontWidth = g.filterWidth - 1 - g.padLeft;
  const fittedHeight = g.outHeight * g.strideHeight; // dy fitted and dilated: s entries per output
  const fittedWidth = g.outWidth * g.strideWidth;
  const backHeight = g.inHeight + g.filterHeight - 1 - frontHeight - fittedHeight;
  const backWidth = g.inWidth + g.filterWidth - 1 - frontWidth - fittedWidth;
  if (Math.min(frontHeight, frontWidth, backHeight, backWidth) < 0) {
    return { input: transposedConvolutionInput(dy, g), padding: "valid" };
  }
  // Strided: only the dilation is materialised (one copy the size of x), not the border.
  return {
    input: insertZerosBetween(fitToOutputSize(dy, g), g.strideHeight, g.strideWidth),
    padding: [
      [0, 0],
      [frontHeight, backHeight],
      [frontWidth, backWidth],
      [0, 0],
    ],
  };
}

/**
 * Memory layout of the per-tap patch matrices; the fast one differs by backend
 * (measured with bench/kernels.ts at 8x64x64x32):
 *  - 'rowsMajor': [rows, channels]. Each tap is a contiguous row range, which
 *    tfjs-backend-cpu's Slice returns as a zero-copy `subarray`; its blocked
 *    matMul handles `transposeA` at no extra cost. Channel-major slices would
 *    hit cpu Slice's per-element TensorBuffer loop instead.
 *  - 'channelsMajor': [channels, rows]. On tfjs-backend-wasm every slice is a
 *    copy anyway; in this layout the patch matrix is a plain axis-0 concat
 *    (memcpy) that feeds XNNPACK's matMul as its left operand, where
 *    'rowsMajor' would need `transposeA` (~6x slower there) or transposes
 *    around it, and the depthwise row sums become innermost-axis reductions.
 */
export type TapLayout = "rowsMajor" | "channelsMajor";

/**
 * The im2col patches of a convolution, one matrix per filter tap, plus the
 * row layout that dy must be brought into to meet them.
 */
export interface TapMatrices {
  /** Number of filter taps, `filterHeight * filterWidth`. */
  count: number;
  /** Number of rows (positions) of every tap matrix (≥ batch·outHeight·outWidth). */
  rows: number;
  /** The rows as an NHWC grid, [N, Hq, Wq]: rows = N·Hq·Wq, output (n, i, j) at row n·Hq·Wq + i·Wq + j. */
  grid: [number, number, number];
  /**
   * The patch matrix of tap t — [rows, inChannels] or [inChannels, rows] per
   * the layout — taps in (filter row, filter column) order: position p holds
   * the input pixel that tap t multiplies for output position p. Made on
   * demand, so a caller can keep just one alive.
   */
  tap(t: number): Tensor2D;
  /**
   * Lays a tensor shaped like the convolution's output, [N, OH, OW, D], onto
   * the same positions as the taps: [rows, D] (in either layout), with zeros
   * at positions that are not outputs.
   */
  alignWithTaps(outputShaped: Tensor4D): Tensor2D;
}

/**
 * im2col without gathers. The naive way to get the patch matrix — one
 * strided 4-D slice of the padded input per tap — is slow on both backends:
 * tfjs-backend-cpu's Slice falls back to a per-element TensorBuffer loop for
 * any non-contiguous slice, and wasm's StridedSlice is not much better. We
 * instead arrange the padded input so that every tap is a *contiguous* range
 * of rows of one [rows, channels] matrix (zero-copy `subarray` on cpu), or
 * of columns of its transpose (see `TapLayout`):
 *
 *  1. Zero-pad x to [N, Hq·sH, Wq·sW, C] where Hq = OH - 1 + ceil(R/sH)
 *     (Wq likewise), enough for every window of every output position.
 *  2. Stride s > 1: split into s·s phases ("space-to-depth"),
 *     phase(a, b)[n, u, v] = xPadded[n, u·sH + a, v·sW + b]; filter tap
 *     (r, c) = (qr·sH + a, qc·sW + b) then reads phase(a, b)[n, i+qr, j+qc]
 *     for output (i, j) — a stride-1 access.
 *  3. Flatten phases as [phase, n, u, v] rows. For output position (n, i, j)
 *     put at row n·Hq·Wq + i·Wq + j, tap (r, c) is the same row shifted by
 *     phaseOffset(a, b) + qr·Wq + qc: one contiguous slice per tap.
 *
 * Rows (i, j) with i ≥ OH or j ≥ OW are not outputs; they read wrapped-around
 * pixels, so `alignWithTaps` gives them zero dy and they add nothing. The
 * price is ~(Hq·Wq)/(OH·OW) extra rows (about 6% at 64×64, 3×3).
 */
export function extractTapMatrices(x: Tensor4D, g: WindowGeometry, layout: TapLayout): TapMatrices {
  const sH = g.strideHeight;
  const sW = g.strideWidth;
  const maxShiftRows = Math.floor((g.filterHeight - 1) / sH);
  const maxShiftColumns = Math.floor((g.filterWidth - 1) / sW);
  const gridHeight = g.outHeight + maxShiftRows; // Hq
  const gridWidth = g.outWidth + maxShiftColumns; // Wq
  const rows = g.batchSize * gridHeight * gridWidth;
  const channels = g.inChannels;

  const padded = padOrCropSpatial(
    x,
    [g.padTop, gridHeight * sH - g.padTop - g.inHeight],
    [g.padLeft, gridWidth * sW - g.padLeft - g.inWidth],
  );
  // Phase split [N, Hq, sH, Wq, sW, C] -> [sH, sW, N, Hq, Wq, C] as two
  // transposes of rank ≤ 4: tfjs-backend-wasm's Transpose is ~30x slower on
  // the equivalent rank-6 permutation.
  const phases =
    sH === 1 && sW === 1
      ? padded
      : tf.transpose(
          tf.reshape(
            tf.transpose(tf.reshape(padded, [g.batchSize * gridHeight, sH, gridWidth * sW * channels]), [1, 0, 2]),
            [sH, g.batchSize * gridHeight * gridWidth, sW, channels],
          ),
          [0, 2, 1, 3],
        );
  // Extra zero rows so that the last phase's most-shifted tap stays in range.
  const tailRows = maxShiftRows * gridWidth + maxShiftColumns;
  const flat = concatZeros(tf.reshape(phases, [sH * sW * rows, channels]), 0, 0, tailRows);
  const flatInLayout = (layout === "rowsMajor" ? flat : tf.transpose(flat)) as Tensor2D;

  const tap = (t: number): Tensor2D => {
    const r = Math.floor(t / g.filterWidth);
    const c = t % g.filterWidth;
    const phaseOffset = ((r % sH) * sW + (c % sW)) * rows;
    const shift = Math.floor(r / sH) * gridWidth + Math.floor(c / sW);
    const start = phaseOffset + shift;
    if (start === 0 && flat.shape[0] === rows) return flatInLayout; // the whole matrix (1×1, stride 1): no copy
    return layout === "rowsMajor"
      ? tf.slice(flatInLayout, [start, 0], [rows, channels])
      : tf.slice(flatInLayout, [0, start], [channels, rows]);
  };

  const alignWithTaps = (outputShaped: Tensor4D): Tensor2D => {
    const fitted = fitToOutputSize(outputShaped, g);
    const onGrid = padOrCropSpatial(fitted, [0, gridHeight - g.outHeight], [0, gridWidth - g.outWidth]);
    return tf.reshape(onGrid, [rows, outputShaped.shape[3]]);
  };
  return {
    count: g.filterHeight * g.filterWidth,
    rows,
    grid: [g.batchSize, gridHeight, gridWidth],
    tap,
    alignWithTaps,
  };
}
