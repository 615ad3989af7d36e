/**
 * `Conv2DBackpropFilter` (tfjs kernel name; TF op `Conv2DBackpropFilter`):
 * gradient of a 2-D convolution with respect to its filter.
 *
 * Math. Forward (NHWC, undilated):
 *   y[n, i, j, o] = Σ_{r, c, k} xPadded[n, i*sH + r, j*sW + c, k] · w[r, c, k, o]
 * so
 *   dw[r, c, k, o] = Σ_{n, i, j} xPadded[n, i*sH + r, j*sW + c, k] · dy[n, i, j, o]
 * i.e. the correlation of the input's patches with dy. Writing the patches as
 * an im2col matrix P of shape [N·OH·OW, R·C·K] (see `extractPatches`) and dy
 * as D of shape [N·OH·OW, O], this is one matrix product:
 *   dw = Pᵀ · D, reshaped to [R, C, K, O].
 * That single large matMul runs on the backend's optimized BatchMatMul
 * (XNNPACK on wasm, the blocked JS loop on cpu), instead of tfjs-backend-cpu's
 * 7-deep scalar loop with TensorBuffer.get per term, and wasm has no
 * Conv2DBackpropFilter kernel at all in tfjs-backend-wasm 4.22.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelFunc, Tensor4D, TensorInfo } from '@tensorflow/tfjs';
import { runCompositeKernel } from './composite.ts';
import { computeWindowGeometry, extractPatches } from './geometry.ts';

export function conv2dBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: KernelBackend;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const channelsFirst = dataFormat === 'NCHW';

  return runCompositeKernel(backend, { x: inputs.x, dy: inputs.dy }, (tensors) => {
    // NCHW is handled by moving channels last; the filter layout
    // [R, C, inChannels, outChannels] is the same for both formats.
    const x = (channelsFirst ? tf.transpose(tensors.x, [0, 2, 3, 1]) : tensors.x) as Tensor4D;
    const dy = (channelsFirst ? tf.transpose(tensors.dy, [0, 2, 3, 1]) : tensors.dy) as Tensor4D;
    const geometry = computeWindowGeometry(x.shape, filterShape, strides, pad, dimRoundingMode, false);
    const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
    const positions = geometry.batchSize * geometry.outHeight * geometry.outWidth;
    const patches = tf.reshape(extractPatches(x, geometry), [positions, filterHeight * filterWidth * inChannels]);
    const dyMatrix = tf.reshape(dy, [positions, outChannels]);
    const dwMatrix = tf.matMul(patches, dyMatrix, true /* transposeA */, false);
    return tf.reshape(dwMatrix, filterShape);
  });
}

export const conv2dBackpropFilterKernelFunc = conv2dBackpropFilter as unknown as KernelFunc;
