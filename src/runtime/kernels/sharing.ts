/**
 * `Identity` and `Cast` for tfjs-backend-wasm: a copy that shares its data.
 *
 * Identity is what `tensor.clone()` runs, and tfjs-core clones every tensor it saves for a
 * gradient (Engine.saveTensorsForBackwardMode, and the `save` of every customGrad such
 * as fused.conv2d). tfjs-backend-wasm 4.22's Identity (kernels/Identity.js) copies the
 * whole buffer, so on wasm a training step held two copies of most activations — the
 * layer's output and the tape's — and paid a full pass for each. tfjs-backend-cpu's
 * Identity shares the buffer instead (`incRef`; tfjs tensors are immutable, and a
 * variable's `assign` swaps its buffer rather than writing into it); here wasm does the
 * same, for every dtype whose data lives on the heap (strings go to the original).
 *
 * Cast: a cast to the dtype a tensor already has shares its data too.
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

/** A second TensorInfo of the same buffer, which holds its own reference. */
function share(x: TensorInfo, backend: RefCountingBackend): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function makeWasmIdentity(original: () => KernelFunc): KernelFunc {
  function identity(args: { inputs: { x: TensorInfo }; backend: RefCountingBackend }): TensorInfo {
    const { x } = args.inputs;
    if (x.dtype === "string") return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    return share(x, args.backend);
  }
  return identity as unknown as KernelFunc;
}

export function makeWasmCast(original: () => KernelFunc): KernelFunc {
  function cast(args: { inputs: { x: TensorInfo }; backend: RefCountingBackend; attrs: CastAttrs }): TensorInfo {
    const { x } = args.inputs;
    if (x.dtype !== args.attrs.dtype) return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    return share(x, args.backend);
  }
  return cast as unknown as KernelFunc;
}
