/**
 * Optimiser updates as one kernel per variable: every per-element step of the update in
 * one loop over the variable, its gradient and its slots, instead of one tfjs op (one
 * full pass, one allocation, one kernel dispatch) per arithmetic operation.
 *
 * Why: tfjs-core 4.22's Adam runs 11 ops per variable (optimizers/adam_optimizer.ts).
 * EfficientNet-B0 has 213 trainable variables, so a step dispatched ≈ 2,400 small
 * kernels for Adam alone, each costing ≈ 5 µs to dispatch whatever its size. Here a
 * variable costs one kernel call that reads each input once and writes each output once.
 * Being a scalar JavaScript loop, it pays only for small variables (adam.ts says which).
 *
 * Exactness: each loop performs tfjs's own operations in tfjs's order, rounding every
 * intermediate to float32 with Math.fround. For +, −, ×, ÷ and √ of float32 operands,
 * computing in float64 and then rounding to float32 gives the correctly rounded float32
 * result (float64 has more than 2·24 + 2 significand bits: Figueroa, "When is double
 * rounding innocuous?", SIGNUM 1995), which is what IEEE float32 arithmetic — wasm's
 * f32 and f32x4 ops under XNNPACK, JavaScript's Float32Array arithmetic on cpu — gives.
 * So the updates are bit-identical to tfjs's (tested: test/runtime/step_kernels.test.ts).
 *
 * Memory: outputs are new buffers, as tfjs's ops make; a variable's `assign` then swaps
 * its buffer (tfjs tensors are immutable and buffers may be shared, e.g. by clones:
 * sharing.ts), so nothing is written in place.
 */
import * as tf from "@tensorflow/tfjs";
import type { DataId, DataType, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from "@tensorflow/tfjs";
import { simdLoopsFor, type AdamConstants, type SimdLoops, type WasmMemory } from "./simd_loops.ts";

/** What a loop reads and writes: the inputs' values, then fresh outputs of the same size. */
export type UpdateLoop = (inputs: Float32Array[], outputs: Float32Array[], attrs: NamedAttrMap) => void;

interface WasmBackend {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuBackend {
  data: { get(dataId: DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array): TensorInfo;
}

/** One update kernel: `inputNames` in, `outputs` float32 tensors of the first input's shape out. */
export interface UpdateKernel {
  readonly kernelName: string;
  readonly inputNames: readonly string[];
  readonly outputs: number;
  readonly loop: UpdateLoop;
  /**
   * The same update as a WebAssembly SIMD loop on tfjs-backend-wasm's heap (simd_loops.ts), for
   * `count` values (a multiple of 4) at the inputs' and outputs' byte offsets, bit-identical to
   * `loop`. Where there is one, the wasm kernel is faster than tfjs's ops at any size.
   */
  readonly simd?: (loops: SimdLoops, inputs: number[], outputs: number[], count: number, attrs: NamedAttrMap) => void;
}

function checkInputs(kernel: UpdateKernel, inputs: Record<string, TensorInfo>): TensorInfo[] {
  const infos = kernel.inputNames.map((name) => inputs[name]);
  const size = tf.util.sizeFromShape(infos[0].shape);
  for (const [i, info] of infos.entries())
    if (info.dtype !== "float32" || tf.util.sizeFromShape(info.shape) !== size)
      throw new Error(
        `${kernel.kernelName}: input ${kernel.inputNames[i]} must be float32 of ${size} values, not ${info.dtype} of shape [${info.shape}]`,
      );
  return infos;
}

/** The kernel for tfjs-backend-wasm: inputs and outputs are views of the wasm heap. */
export function wasmUpdateKernel(kernel: UpdateKernel): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: NamedAttrMap }) => {
    const infos = checkInputs(kernel, args.inputs);
    const shape = infos[0].shape;
    const outputs = Array.from({ length: kernel.outputs }, () => args.backend.makeOutput(shape, "float32"));
    const size = tf.util.sizeFromShape(shape);
    const loops = kernel.simd && simdLoopsFor(args.backend.wasm.asm?.memory);
    const vectorised = loops ? size - (size % 4) : 0;
    if (loops && vectorised > 0) {
      const offset = (info: TensorInfo) => args.backend.dataIdMap.get(info.dataId).memoryOffset;
      kernel.simd!(loops, infos.map(offset), outputs.map(offset), vectorised, args.attrs);
    }
    // The rest (all of it without SIMD) in JavaScript; views taken after makeOutput: allocating may grow (and detach) the heap.
    if (vectorised < size) {
      const view = (info: TensorInfo) => args.backend.typedArrayFromHeap(info).subarray(vectorised);
      kernel.loop(infos.map(view), outputs.map(view), args.attrs);
    }
    return outputs;
  }) as unknown as KernelFunc;
}

/** The kernel for tfjs-backend-cpu: inputs are its Float32Arrays, outputs new ones. */
export function cpuUpdateKernel(kernel: UpdateKernel): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: CpuBackend; attrs: NamedAttrMap }) => {
    const infos = checkInputs(kernel, args.inputs);
    const size = tf.util.sizeFromShape(infos[0].shape);
    const outputs = Array.from({ length: kernel.outputs }, () => new Float32Array(size));
    kernel.loop(
      infos.map((info) => args.backend.data.get(info.dataId).values),
      outputs,
      args.attrs,
    );
    return outputs.map((values) => args.backend.makeTensorInfo(infos[0].shape, "float32", values));
  }) as unknown as KernelFunc;
}

/** Whether the active backend has `kernel` (effnet registers it for wasm and cpu). */
export function hasUpdateKernel(kernel: UpdateKernel): boolean {
  return tf.getKernel(kernel.kernelName, tf.getBackend()) !== undefined;
}

/**
 * Whether the active backend runs `kernel` as its SIMD loop (tfjs-backend-wasm with WebAssembly
 * SIMD, for a kernel that has one): then it pays at every size, not only for small variables.
 */
export function hasSimdUpdateKernel(kernel: UpdateKernel): boolean {
  if (!kernel.simd || tf.getBackend() !== "wasm" || !hasUpdateKernel(kernel)) return false;
  return simdLoopsFor((tf.backend() as unknown as WasmBackend).wasm.asm?.memory) !== undefined;
}

/** Runs `kernel` on the tensors, in `inputNames` order; returns its outputs. */
export function runUpdateKernel(kernel: UpdateKernel, inputs: Tensor[], attrs: Record<string, number>): Tensor[] {
  const named: Record<string, Tensor> = {};
  kernel.inputNames.forEach((name, i) => (named[name] = inputs[i]));
  return tf.engine().runKernel(kernel.kernelName, named, attrs as unknown as NamedAttrMap) as Tensor[];
}

const f = Math.fround;

/**
 * Adam (tfjs-core 4.22 AdamOptimizer.applyGradients), per element, in its order:
 *   m' = m·β₁ + g·(1 − β₁);  v' = v·β₂ + g²·(1 − β₂)
 *   w' = (m'/(1 − β₁ᵗ)) / (√(v'/(1 − β₂ᵗ)) + ε) · (−lr) + w
 * Attributes are the float32 scalars tfjs makes (see adam.ts).
 */
export const ADAM_UPDATE: UpdateKernel = {
  kernelName: "EffnetAdamUpdate",
  inputNames: ["variable", "gradient", "firstMoment", "secondMoment"],
  outputs: 3,
  loop: ([w, g, m, v], [wOut, mOut, vOut], attrs) => {
    const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon } = attrs as Record<
      string,
      number
    >;
    const minusLearningRate = attrs.minusLearningRate as number;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const mi = f(f(m[i] * beta1) + f(gi * oneMinusBeta1));
      const vi = f(f(v[i] * beta2) + f(f(gi * gi) * oneMinusBeta2));
      const mHat = f(mi / oneMinusAccBeta1);
      const vHat = f(vi / oneMinusAccBeta2);
      const step = f(f(mHat / f(f(Math.sqrt(vHat)) + epsilon)) * minusLearningRate);
      mOut[i] = mi;
      vOut[i] = vi;
      wOut[i] = step + w[i]; // the store rounds to float32
    }
  },
  simd: (
    loops,
    [variable, gradient, firstMoment, secondMoment],
    [newVariable, newFirstMoment, newSecondMoment],
    count,
    attrs,
  ) =>
    loops.adam(
      { variable, gradient, firstMoment, secondMoment, newVariable, newFirstMoment, newSecondMoment },
      count,
      attrs as unknown as AdamConstants,
    ),
};

/**
 * RMSProp, not centred (tfjs-core 4.22 RMSPropOptimizer.applyGradients), per element, in its order:
 *   s' = s·ρ + g²·(1 − ρ);  μ' = μ·momentum + (g·lr)/√(s' + ε);  w' = w − μ'
 * Attributes are the float32 scalars tfjs makes of its numbers (see lean_optimizers.ts).
 */
export const RMSPROP_UPDATE: UpdateKernel = {
  kernelName: "EffnetRmspropUpdate",
  inputNames: ["variable", "gradient", "meanSquare", "moment"],
  outputs: 3,
  loop: ([w, g, s, mu], [wOut, sOut, muOut], attrs) => {
    const { decay, oneMinusDecay, momentum, learningRate, epsilon } = attrs as Record<string, number>;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const si = f(f(s[i] * decay) + f(f(gi * gi) * oneMinusDecay));
      const mi = f(f(mu[i] * momentum) + f(f(gi * learningRate) / f(Math.sqrt(f(si + epsilon)))));
      sOut[i] = si;
      muOut[i] = mi;
      wOut[i] = w[i] - mi; // the store rounds to float32
    }
  },
};

/**
 * SGD with momentum (tfjs-core 4.22 MomentumOptimizer.applyGradients; torch's form), per
 * element, in its order: a' = m·a + g;  w' = c·a' + w, or with Nesterov w' = c·(g + a'·m) + w,
 * where c is its scalar −lr and m its scalar momentum.
 */
export const MOMENTUM_UPDATE: UpdateKernel = {
  kernelName: "EffnetMomentumUpdate",
  inputNames: ["variable", "gradient", "accumulation"],
  outputs: 2,
  loop: ([w, g, a], [wOut, aOut], attrs) => {
    const { momentum, minusLearningRate, nesterov } = attrs as Record<string, number>;
    for (let i = 0; i < w.length; i++) {
      const ai = f(f(momentum * a[i]) + g[i]);
      aOut[i] = ai;
      const direction = nesterov ? f(g[i] + f(ai * momentum)) : ai;
      wOut[i] = f(minusLearningRate * direction) + w[i]; // the store rounds to float32
    }
  },
};

/** Every update kernel, for the kernel table (index.ts). */
export const UPDATE_KERNELS: readonly UpdateKernel[] = [ADAM_UPDATE, RMSPROP_UPDATE, MOMENTUM_UPDATE];
