/**
 * `Slice` for tfjs-backend-wasm: the same values, without copying the input.
 *
 * Why: tfjs-backend-wasm 4.22's Slice (kernels/Slice.js) starts with
 * `backend.readSync(x.dataId)`, which on wasm is `HEAPU8.slice(...)`: a copy
 * of the *whole* input to the JS heap, however small the slice. Our training
 * kernels slice large tensors many times (per-image inputs, per-tap patch
 * matrices, crops), so each slice copied the whole input: a batch split into
 * images, or the 9 taps of a 3×3 depthwise filter gradient, copied it again for
 * every piece. Non-contiguous slices also
 * went through per-element JS loops.
 *
 * Here the input and output are read/written through views of the wasm heap
 * (`typedArrayFromHeap`, as wasm's own Concat and Identity do), and the slice
 * is copied as runs: the innermost dims that the slice spans completely, plus
 * the next (partial) one, are contiguous in both tensors, so each run is one
 * `TypedArray.set` (a memcpy). Values are copied bit-for-bit: identical results.
 * Strings (kept outside the heap) go to the original kernel.
 */
import * as tf from "@tensorflow/tfjs";
import type { DataType, KernelFunc, SliceAttrs, TensorInfo } from "@tensorflow/tfjs";

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function makeWasmSlice(original: () => KernelFunc): KernelFunc {
  function slice(args: { inputs: { x: TensorInfo }; backend: WasmHeapBackend; attrs: SliceAttrs }): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (x.dtype === "string") return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    const out = backend.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    // Views taken after makeOutput: allocating may grow (and detach) the heap.
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(out);
    const rank = x.shape.length;
    const strides = [...tf.util.computeStrides(x.shape), 1];
    // Innermost dims spanned completely, then the first partial one: one run.
    let d = rank - 1;
    while (d >= 0 && begin[d] === 0 && size[d] === x.shape[d]) d--;
    if (d < 0) {
      target.set(source); // the whole tensor
      return out;
    }
    const run = size[d] * strides[d];
    // Odometer over the outer dims 0..d-1.
    const index = new Array<number>(d).fill(0);
    let sourceOffset = 0;
    for (let i = 0; i <= d; i++) sourceOffset += begin[i] * strides[i];
    const runs = tf.util.sizeFromShape(size.slice(0, d));
    for (let r = 0, targetOffset = 0; r < runs; r++, targetOffset += run) {
      target.set(source.subarray(sourceOffset, sourceOffset + run), targetOffset);
      for (let i = d - 1; i >= 0; i--) {
        sourceOffset += strides[i];
        if (++index[i] < size[i]) break;
        sourceOffset -= size[i] * strides[i];
        index[i] = 0;
      }
    }
    return out;
  }
  return slice as unknown as KernelFunc;
}
