/**
 * Measuring the memory a backend really uses: for benchmarks (bench/memory.ts,
 * `effnet bench-model`), not for tests or the trainer.
 *
 * Two figures matter on tfjs-backend-wasm:
 *  - the wasm heap's size, `memory.buffer.byteLength`. A WebAssembly.Memory only grows
 *    (there is no shrink instruction), so after a training step this is the high-water
 *    mark of everything malloc'd at once — tensors, XNNPACK's packed weights and
 *    workspaces — plus the allocator's fragmentation, in 64 KiB pages. It is what hits the
 *    4 GiB limit (tfjs-backend-wasm is built with MAXIMUM_MEMORY=4GB);
 *  - the bytes of live tensor buffers, counted at the backend (every `move` and
 *    `disposeData`), so intermediates *inside* composite kernels count too, which
 *    `tf.memory()` (engine level, sampled between ops) cannot see. Its peak, and the
 *    kernel running at that moment, say where the heap went.
 */
import * as tf from "@tensorflow/tfjs";

/** The wasm heap's current size in bytes, or undefined on a backend that has none. */
export function wasmHeapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength;
}

export interface LiveBytesPeak {
  /** The most bytes of tensor buffers alive at once since the tracker started (or was reset). */
  readonly peakBytes: number;
  /** The kernels running (outermost first) when that peak was reached. */
  readonly peakKernels: readonly string[];
  /** Per outermost kernel name: the most bytes it had allocated beyond what was alive when it started. */
  readonly transientByKernel: ReadonlyMap<string, number>;
}

export interface LiveBytesTracker {
  /** Bytes of tensor buffers alive now. */
  live(): number;
  peak(): LiveBytesPeak;
  /** Starts a new peak from what is alive now. */
  reset(): void;
  /** Restores the backend and engine methods the tracker wrapped. */
  stop(): void;
}

interface TrackedBackend {
  /** Where wasm (dataIdMap) and cpu (data) keep each buffer's shape or values. */
  dataIdMap?: { get(dataId: object): { shape: number[]; dtype: string } | undefined };
  data?: { get(dataId: object): { values?: { byteLength: number } } | undefined };
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface TrackedEngine {
  runKernelFunc(params: { kernelName?: string }): unknown;
}

const bytesOf = (shape: readonly number[], dtype: string) =>
  shape.reduce((a, b) => a * b, 1) * (dtype === "complex64" ? 8 : dtype === "bool" ? 1 : 4);

/**
 * Counts the active backend's tensor buffers as they are allocated and freed, by wrapping
 * the backend's `move` (every new buffer: wasm's `write` and `makeOutput` go through it)
 * and `disposeData`, and the engine's `runKernelFunc` to know which kernel is running.
 * Wraps instance methods, so only this backend object is affected, until `stop()`.
 * It starts from `tf.memory().numBytes`, which counts a buffer once per tensor sharing it:
 * start it in a fresh process (as bench/memory.ts does) for an exact count.
 */
export function trackLiveBytes(): LiveBytesTracker {
  const backend = tf.backend() as unknown as TrackedBackend;
  const engine = tf.engine() as unknown as TrackedEngine;
  // Bytes of a buffer allocated before the tracker started (wasm: shape and dtype; cpu: values).
  const sizeNow = (dataId: object): number => {
    const wasmEntry = backend.dataIdMap?.get(dataId);
    if (wasmEntry) return bytesOf(wasmEntry.shape, wasmEntry.dtype);
    return backend.data?.get(dataId)?.values?.byteLength ?? 0;
  };
  const originalMove = backend.move;
  const originalDispose = backend.disposeData;
  const originalRun = engine.runKernelFunc;
  let live = tf.memory().numBytes;
  let peakBytes = 0;
  let peakKernels: string[] = [];
  const stack: { name: string; startBytes: number }[] = [];
  const transient = new Map<string, number>();

  const noteAllocation = () => {
    if (live > peakBytes) {
      peakBytes = live;
      peakKernels = stack.map((s) => s.name);
    }
    const outer = stack[0];
    if (outer) transient.set(outer.name, Math.max(transient.get(outer.name) ?? 0, live - outer.startBytes));
  };
  backend.move = function (dataId, values, shape, dtype, refCount) {
    originalMove.call(this, dataId, values, shape, dtype, refCount);
    live += bytesOf(shape, dtype);
    noteAllocation();
  };
  backend.disposeData = function (dataId, force) {
    const bytes = sizeNow(dataId);
    const freed = originalDispose.call(this, dataId, force);
    if (freed) live -= bytes;
    return freed;
  };
  engine.runKernelFunc = function (params) {
    stack.push({ name: params.kernelName ?? "(custom gradient)", startBytes: live });
    try {
      return originalRun.call(this, params);
    } finally {
      stack.pop();
    }
  };
  return {
    live: () => live,
    peak: () => ({ peakBytes, peakKernels, transientByKernel: new Map(transient) }),
    reset: () => {
      peakBytes = live;
      peakKernels = [];
      transient.clear();
    },
    stop: () => {
      backend.move = originalMove;
      backend.disposeData = originalDispose;
      engine.runKernelFunc = originalRun;
    },
  };
}
