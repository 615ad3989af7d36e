/**
 * `Cast` for tfjs-backend-wasm: a cast to the dtype a tensor already has shares its data.
 *
 * Why: tfjs-core 4.22's `tf.moments` (what every training-mode batch norm of tfjs-layers
 * runs) starts with `cast(x, 'float32')` of an input that is float32 already, and
 * tfjs-backend-wasm's Cast (kernels/Cast.js) copies the whole tensor even then: one
 * full-size allocation and pass per batch norm per step. tfjs-backend-cpu's Cast already
 * returns such a cast as an identity that shares the buffer (`incRef`, as its Identity
 * kernel does); here wasm does the same. Other casts go to the original kernel.
 */
import type { CastAttrs, DataId, KernelFunc, TensorInfo } from "@tensorflow/tfjs";

interface RefCountingBackend {
  incRef(dataId: DataId): void;
}

export function makeWasmCast(original: () => KernelFunc): KernelFunc {
  function cast(args: { inputs: { x: TensorInfo }; backend: RefCountingBackend; attrs: CastAttrs }): TensorInfo {
    const { x } = args.inputs;
    if (x.dtype !== args.attrs.dtype) return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }
  return cast as unknown as KernelFunc;
}
