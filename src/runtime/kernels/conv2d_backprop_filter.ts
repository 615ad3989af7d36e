/**
 * `Conv2DBackpropFilter` (tfjs kernel name; TF op `Conv2DBackpropFilter`):
 * gradient of a 2-D convolution with respect to its filter.
 *
 * Math. Forward (NHWC, undilated):
 *   y[n, i, j, o] = Σ_{r, c, k} xPadded[n, i*sH + r, j*sW + c, k] · w[r, c, k, o]
 * so
 *   dw[r, c, k, o] = Σ_{n, i, j} xPadded[n, i*sH + r, j*sW + c, k] · dy[n, i, j, o]
 * i.e. the correlation of the input's patches with dy. Writing the patches as
 * an im2col matrix P of shape [rows, R·C·K] (see `extractTapMatrices`; rows
 * ≈ N·OH·OW) and dy on the same rows as D of shape [rows, O], this is one
 * matrix product:
 *   dw = Pᵀ · D, reshaped to [R, C, K, O].
 * (On cpu P is built row-major and the matMul gets transposeA; on wasm Pᵀ is
 * built directly — see `TapLayout`.)
 * That single large matMul runs on the backend's optimized BatchMatMul
 * (XNNPACK on wasm, the blocked JS loop on cpu), instead of tfjs-backend-cpu's
 * 7-deep scalar loop with TensorBuffer.get per term, and wasm has no
 * Conv2DBackpropFilter kernel at all in tfjs-backend-wasm 4.22.
 *
 * Memory: dw is a sum over images, so large batches run a few images at a
 * time (chunks.ts), which bounds the patch matrices whatever the batch.
 */
import * as tf from "@tensorflow/tfjs";
import type {
  Conv2DBackpropFilterAttrs,
  KernelBackend,
  KernelFunc,
  Tensor,
  Tensor4D,
  TensorInfo,
} from "@tensorflow/tfjs";
import { imageBytes, sumOverImageChunks } from "./chunks.ts";
import { runCompositeKernel } from "./composite.ts";
import { computeWindowGeometry, extractTapMatrices, type TapLayout, type WindowGeometry } from "./geometry.ts";

export interface Conv2dBackpropFilterOptions {
  /** Layout of the patch matrices; see `TapLayout` for why it is per backend. */
  tapLayout: TapLayout;
}

/** dw for NHWC x and dy (see header); `geometry` is computed on the NCHW or NHWC input shape as the attrs describe it. */
function filterGradient(
  x: Tensor4D,
  dy: Tensor4D,
  geometry: WindowGeometry,
  filterShape: [number, number, number, number],
  tapLayout: TapLayout,
): Tensor {
  const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
  if (tapLayout === "channelsMajor" && filterHeight * filterWidth === 1 && outChannels < inChannels) {
    // 1×1 with fewer output than input channels: transpose dy, not x.
    // dwᵀ = Dᵀ · P ([O, rows]·[rows, K]), with P the rows-major patch
    // matrix (x itself at stride 1). wasm's 2-D Transpose is a plain loop
    // whose cost grows with the width of the matrix, so the narrower side
    // is the one to transpose (B0 block 2a's project conv: 16 against 96).
    const rowsMajor = extractTapMatrices(x, geometry, "rowsMajor");
    const dyColumns = tf.transpose(rowsMajor.alignWithTaps(dy)); // Dᵀ: [O, rows]
    return tf.reshape(tf.transpose(tf.matMul(dyColumns, rowsMajor.tap(0))), filterShape);
  }
  const tapMatrices = extractTapMatrices(x, geometry, tapLayout);
  const taps = Array.from({ length: tapMatrices.count }, (_, t) => tapMatrices.tap(t));
  const dyRows = tapMatrices.alignWithTaps(dy); // D: [rows, O]
  if (tapLayout === "rowsMajor") {
    const patches = taps.length === 1 ? taps[0] : tf.concat(taps, 1); // P: [rows, R·C·K]
    return tf.reshape(tf.matMul(patches, dyRows, true /* transposeA */), filterShape);
  }
  const patchesTransposed = taps.length === 1 ? taps[0] : tf.concat(taps, 0); // Pᵀ: [R·C·K, rows]
  return tf.reshape(tf.matMul(patchesTransposed, dyRows), filterShape);
}

export function makeConv2dBackpropFilter({ tapLayout }: Conv2dBackpropFilterOptions): KernelFunc {
  function conv2dBackpropFilter(args: {
    inputs: { x: TensorInfo; dy: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DBackpropFilterAttrs;
  }): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
    const channelsFirst = dataFormat === "NCHW";

    return runCompositeKernel(backend, { x: inputs.x, dy: inputs.dy }, (tensors) => {
      // NCHW is handled by moving channels last; the filter layout
      // [R, C, inChannels, outChannels] is the same for both formats.
      const x = (channelsFirst ? tf.transpose(tensors.x, [0, 2, 3, 1]) : tensors.x) as Tensor4D;
      const dy = (channelsFirst ? tf.transpose(tensors.dy, [0, 2, 3, 1]) : tensors.dy) as Tensor4D;
      const [filterHeight, filterWidth] = filterShape;
      // Per image: the patch matrix (one copy of x per tap), about four copies of x on
      // the way there (padding, phases, the flat matrix and its transpose), dy twice.
      const bytesPerImage = (filterHeight * filterWidth + 4) * imageBytes(x) + 2 * imageBytes(dy);
      return sumOverImageChunks([x, dy], bytesPerImage, (xChunk, dyChunk) => {
        const geometry = computeWindowGeometry(
          channelsFirst ? [xChunk.shape[0], xChunk.shape[3], xChunk.shape[1], xChunk.shape[2]] : xChunk.shape,
          filterShape,
          strides,
          pad,
          dimRoundingMode,
          false,
          channelsFirst,
        );
        return filterGradient(xChunk, dyChunk, geometry, filterShape, tapLayout);
      });
    });
  }
  return conv2dBackpropFilter as unknown as KernelFunc;
}
