/**
 * Window geometry of a 2-D convolution, and im2col patch extraction.
 *
 * The padding/output-size arithmetic is delegated to tfjs's own
 * `backend_util.computeConv2DInfo` (the same call the original cpu kernels
 * make), so 'same', 'valid', a numeric pad with `dimRoundingMode`, and
 * explicit `[[0,0],[top,bottom],[left,right],[0,0]]` padding all produce
 * exactly the windows the forward pass used.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor4D } from '@tensorflow/tfjs';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type DimRoundingMode = 'floor' | 'round' | 'ceil' | undefined;

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
  return typeof value === 'number' ? [value, value] : value;
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
 * Geometry of a convolution over an NHWC input of `inputShape` with a filter
 * of spatial size `filterHeight`×`filterWidth`. `depthwise` only changes how
 * computeConv2DInfo reads the filter's channel dims, not the windows.
 */
export function computeWindowGeometry(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode: DimRoundingMode,
  depthwise: boolean,
): WindowGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    1 /* dilations */,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
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
  let result = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const cropTop = Math.max(0, -top);
    const cropLeft = Math.max(0, -left);
    result = tf.slice(
      result,
      [0, cropTop, cropLeft, 0],
      [batch, height - cropTop - Math.max(0, -bottom), width - cropLeft - Math.max(0, -right), channels],
    );
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    result = tf.pad(result, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }
  return result;
}

/**
 * im2col: the patch seen by every output position, laid out as
 * `[batch, outHeight, outWidth, filterHeight * filterWidth * inChannels]`
 * with the last axis ordered (row, column, channel) — the same order as a
 * flattened `[filterHeight, filterWidth, inChannels, ...]` tfjs filter, so a
 * single matMul against it reproduces the convolution sums.
 *
 * Each filter tap (r, c) contributes one strided slice of the zero-padded
 * input: xPadded[:, r : r + (outHeight-1)*strideHeight + 1 : strideHeight,
 * c : ... : strideWidth, :]. Taps are then concatenated along channels.
 * Cost: filterHeight*filterWidth copies of the output-sized activation,
 * no arithmetic.
 */
export function extractPatches(x: Tensor4D, g: WindowGeometry): Tensor4D {
  // Rows a window may touch: (out-1)*stride + filter, starting at -padTop.
  // Pad the bottom/right exactly that far (zeros beyond the input contribute
  // nothing, as in the forward pass), whatever padInfo.bottom says.
  const neededHeight = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const neededWidth = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  const padded = padOrCropSpatial(
    x,
    [g.padTop, neededHeight - g.padTop - g.inHeight],
    [g.padLeft, neededWidth - g.padLeft - g.inWidth],
  );
  const unitStride = g.strideHeight === 1 && g.strideWidth === 1;
  const taps: Tensor4D[] = [];
  for (let row = 0; row < g.filterHeight; row++) {
    for (let column = 0; column < g.filterWidth; column++) {
      taps.push(
        unitStride
          ? tf.slice(padded, [0, row, column, 0], [g.batchSize, g.outHeight, g.outWidth, g.inChannels])
          : tf.stridedSlice(
              padded,
              [0, row, column, 0],
              [
                g.batchSize,
                row + (g.outHeight - 1) * g.strideHeight + 1,
                column + (g.outWidth - 1) * g.strideWidth + 1,
                g.inChannels,
              ],
              [1, g.strideHeight, g.strideWidth, 1],
            ),
      );
    }
  }
  return taps.length === 1 ? taps[0] : tf.concat(taps, 3);
}
