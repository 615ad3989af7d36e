/**
 * tfjs-backend-wasm kernels for the logistic sigmoid and for swish (x·σ(x)) that run the
 * WebAssembly SIMD loops of simd_loops.ts on the tensors in place: four lanes at a time,
 * in float32, with the error bound documented there (3.6e-7 relative; tested against tfjs's
 * own Sigmoid and against double precision in test/runtime/inference_kernels.test.ts).
 *
 * Why: tfjs-backend-wasm 4.22's Sigmoid is a scalar double-precision loop, and swish as
 * tfjs-layers computes it is three kernels (x·1, Sigmoid, a multiply): in an exported
 * (folded) EfficientNet-B0 at 224 px the 65 sigmoids and 98 multiplies of its 49 swishes
 * and 16 squeeze-excitation gates were a fifth to a quarter of the kernel time. `EffnetSwish` is one
 * pass instead of three (or two: effnet's training swish, swish.ts, is Sigmoid and a
 * multiply); swish.ts runs it where no gradient is being recorded.
 *
 * They take float32 tensors and hand anything else (or everything, where WebAssembly SIMD is
 * missing) to `fallback`. The loops run on a multiple of 4 elements; the last count % 4 are
 * computed here in double precision, as tfjs's Sigmoid computes all of them.
 */
import * as tf from "@tensorflow/tfjs";
import type { DataId, DataType, KernelBackend, KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import { runCompositeKernel } from "./composite.ts";
import { simdLoopsFor, type SimdLoops, type WasmMemory } from "./simd_loops.ts";

/** The kernel name of the one-pass swish (x·σ(x)); not a tfjs kernel: registered by effnet for wasm. */
export const EFFNET_SWISH = "EffnetSwish";

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackend {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

type KernelArgs = { inputs: { x: TensorInfo }; backend: WasmBackend };

/** The two activations: the SIMD loop and the same function in double precision (for the tail). */
const ACTIVATIONS = {
  sigmoid: { loop: "sigmoid", scalar: (v: number) => 1 / (1 + Math.exp(-v)) },
  swish: { loop: "swish", scalar: (v: number) => v / (1 + Math.exp(-v)) },
} as const satisfies Record<string, { loop: keyof SimdLoops; scalar: (v: number) => number }>;

function makeSimdActivation(activation: keyof typeof ACTIVATIONS, fallback: () => KernelFunc): KernelFunc {
  const { loop, scalar } = ACTIVATIONS[activation];
  function simdActivation(args: KernelArgs): TensorInfo {
    const { inputs, backend } = args;
    const { x } = inputs;
    const loops = x.dtype === "float32" ? simdLoopsFor(backend.wasm.asm?.memory) : undefined;
    if (!loops) return fallback()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const out = backend.makeOutput([...x.shape], "float32");
    const count = x.shape.reduce((a, b) => a * b, 1);
    const vectorised = count - (count % 4);
    const offset = (info: TensorInfo) => backend.dataIdMap.get(info.dataId).memoryOffset;
    if (vectorised > 0) loops[loop](offset(x), offset(out), vectorised);
    if (vectorised < count) {
      // Views after makeOutput, which may have grown (and so replaced) the heap's buffer.
      const input = backend.typedArrayFromHeap(x);
      const output = backend.typedArrayFromHeap(out);
      for (let i = vectorised; i < count; i++) output[i] = scalar(input[i]);
    }
    return out;
  }
  return simdActivation as unknown as KernelFunc;
}

/** tfjs's Sigmoid kernel, vectorised; `fallback` (tfjs-backend-wasm's own) for other dtypes. */
export const makeSimdSigmoid = (fallback: () => KernelFunc) => makeSimdActivation("sigmoid", fallback);

/** Swish from tfjs's kernels (Sigmoid, then a multiply), where the SIMD loop does not apply. */
function swishByOps(args: { inputs: { x: TensorInfo }; backend: KernelBackend }): TensorInfo {
  return runCompositeKernel(args.backend, args.inputs, (t) => tf.mul(t.x, tf.sigmoid(t.x)));
}

/** EFFNET_SWISH: x·σ(x) in one pass (tfjs's Sigmoid and a multiply where SIMD is missing). */
export const simdSwish = makeSimdActivation("swish", () => swishByOps as unknown as KernelFunc);
