/**
 * Running tf ops *inside* a kernelFunc.
 *
 * A tfjs kernel receives its inputs as bare `TensorInfo`s ({dataId, shape,
 * dtype}) and must return `TensorInfo`s that the engine then wraps into
 * tensors (tfjs-core 4.22 `Engine.runKernelFunc`). Our training kernels are
 * built from other ops the backend already has (pad, strided slice, concat,
 * matMul, depthwiseConv2d, ...), so they need real `Tensor`s to call ops on.
 *
 * Ref counting is the subtle part. Backends (cpu `MathBackendCPU`, wasm
 * `BackendWasm`) keep a per-dataId refCount, and `Engine.disposeTensor` calls
 * `backend.disposeData(dataId)`, which decrements it and frees the buffer at 0.
 *  - `engine.makeTensorFromTensorInfo` wraps a dataId *without* `incRef`, so
 *    disposing such a wrapper would free the caller's input buffer. We
 *    `incRef` first, so the wrapper owns one reference of its own and the tidy
 *    that disposes it gives that reference back. (This is what the cpu
 *    backend's `Identity` kernel does; the wasm `Identity` would copy instead.)
 *  - The result is computed as a normal tensor inside `tf.tidy`. To hand its
 *    buffer to the engine we `incRef` it once more and dispose our tensor: the
 *    buffer survives with refCount 1, and the engine's own wrapper of the
 *    returned TensorInfo becomes its single owner. Net effect on
 *    `tf.memory().numTensors`/`numDataBuffers`: exactly one new output, which
 *    is what the engine's leak check (`checkKernelForMemLeak`, on when the
 *    `IS_TEST` flag is set) expects.
 *
 * Ops called here are not recorded on the gradient tape: the engine bumps
 * `kernelDepth` while a kernel runs and `isTapeOn()` requires it to be 0.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelBackend, Tensor, TensorInfo } from "@tensorflow/tfjs";

/** Wraps a kernel input as a Tensor that holds its own reference to the data. */
function borrowInput(info: TensorInfo, backend: KernelBackend): Tensor {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

/**
 * Computes a kernel's single output by composing tf ops on its inputs.
 * `compute` runs inside `tf.tidy`; every intermediate it creates is freed.
 */
export function runCompositeKernel<Inputs extends Record<string, TensorInfo>>(
  backend: KernelBackend,
  inputs: Inputs,
  compute: (tensors: { [K in keyof Inputs]: Tensor }) => Tensor,
): TensorInfo {
  const result = tf.tidy(() => {
    const tensors = {} as { [K in keyof Inputs]: Tensor };
    for (const key of Object.keys(inputs) as (keyof Inputs)[]) {
      tensors[key] = borrowInput(inputs[key], backend);
    }
    return compute(tensors);
  });
  // Hand the result's buffer over to the engine (see header comment).
  backend.incRef(result.dataId);
  const handedOver: TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return handedOver;
}
