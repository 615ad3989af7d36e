import * as tf from "@tensorflow/tfjs";
import { trackLiveBytes, wasmHeapBytes } from "./heap.ts";
import { releaseLayerOutputsEarly } from "./release.ts";

/**
 * Timing of whole models, shared by `effnet bench-model` and bench/models.ts. Every
 * figure is the median wall time of `runs` runs after `warmup` runs (the first runs pay
 * for wasm compilation, kernel set-up and allocations), and every run waits for its
 * result's data, so asynchronous backends are timed to completion.
 */
export interface Timing {
  readonly medianMs: number;
  readonly runs: readonly number[];
}

export async function timeMedian(
  run: () => Promise<void>,
  options: { warmup?: number; runs?: number } = {},
): Promise<Timing> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await run();
  const runs: number[] = [];
  for (let i = 0; i < (options.runs ?? 5); i++) {
    const start = performance.now();
    await run();
    runs.push(performance.now() - start);
  }
  return timingOf(runs);
}

function inputSize(model: tf.LayersModel): [number, number, number] {
  const [, height, width, channels] = model.inputs[0].shape as number[];
  return [height, width, channels];
}

/** Inference (model.predict) of one batch of random images at the model's own input size. */
export async function timeForward(
  model: tf.LayersModel,
  batch: number,
  options?: { warmup?: number; runs?: number },
): Promise<Timing> {
  const images = tf.randomUniform([batch, ...inputSize(model)]);
  try {
    return await timeMedian(async () => {
      const output = model.predict(images) as tf.Tensor;
      await output.data();
      output.dispose();
    }, options);
  } finally {
    images.dispose();
  }
}

/** Random images and one-hot labels of one batch at the model's own input size. */
function randomBatch(model: tf.LayersModel, batch: number): { images: tf.Tensor; labels: tf.Tensor } {
  const classes = (model.outputs[0].shape as number[]).at(-1)!;
  const images = tf.randomUniform([batch, ...inputSize(model)]);
  const labels = tf.tidy(() =>
    tf
      .oneHot(
        tf.tensor1d(
          Array.from({ length: batch }, (_, i) => i % classes),
          "int32",
        ),
        classes,
      )
      .toFloat(),
  );
  return { images, labels };
}

/** Compiles the model for training as `effnet train` does: Adam, categorical cross-entropy, early release of layer outputs. */
function compileForTraining(model: tf.LayersModel): void {
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
  releaseLayerOutputsEarly(model); // as effnet's trainer does
}

/**
 * One optimiser step (forward in training mode, backward, Adam update) on one batch of
 * random images and labels: model.trainOnBatch, what `effnet train` runs. Compiles the
 * model with Adam and categorical cross-entropy.
 */
export async function timeTrainStep(
  model: tf.LayersModel,
  batch: number,
  options?: { warmup?: number; runs?: number },
): Promise<Timing> {
  compileForTraining(model);
  const { images, labels } = randomBatch(model, batch);
  try {
    return await timeMedian(async () => {
      await model.trainOnBatch(images, labels);
    }, options);
  } finally {
    tf.dispose([images, labels]);
  }
}

/** The median of a list of run times. */
function timingOf(runs: number[]): Timing {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, runs };
}

/**
 * A forward pass (inference) and a training step of the same batch, alternating run by
 * run, so that whatever else the machine does slows both alike and their ratio is
 * comparable across runs; medians of `runs` each after `warmup` of each.
 */
export async function timeForwardAndTrainStep(
  model: tf.LayersModel,
  batch: number,
  options: { warmup?: number; runs?: number } = {},
): Promise<{ forward: Timing; step: Timing }> {
  compileForTraining(model);
  const { images, labels } = randomBatch(model, batch);
  const forward = async () => {
    const output = model.predict(images) as tf.Tensor;
    await output.data();
    output.dispose();
  };
  const step = async () => {
    await model.trainOnBatch(images, labels);
  };
  const elapsed = async (run: () => Promise<void>) => {
    const start = performance.now();
    await run();
    return performance.now() - start;
  };
  try {
    for (let i = 0; i < (options.warmup ?? 1); i++) {
      await forward();
      await step();
    }
    const forwardRuns: number[] = [];
    const stepRuns: number[] = [];
    for (let i = 0; i < (options.runs ?? 5); i++) {
      forwardRuns.push(await elapsed(forward));
      stepRuns.push(await elapsed(step));
    }
    return { forward: timingOf(forwardRuns), step: timingOf(stepRuns) };
  } finally {
    tf.dispose([images, labels]);
  }
}

export function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** A plain text table, right-aligned numbers, for terminals and CI logs alike. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** What a training step really used, measured (src/runtime/heap.ts). */
export interface TrainStepMemory {
  /** The wasm heap's size after the steps (it never shrinks: the high-water mark), or undefined off wasm. */
  readonly heapBytes: number | undefined;
  /** The most bytes of tensor buffers alive at once during the steps. */
  readonly livePeakBytes: number;
  /** The kernels running when that peak was reached, outermost first. */
  readonly peakKernels: readonly string[];
}

/**
 * Runs `steps` training steps (trainOnBatch with Adam, as `effnet train`) on random images
 * and measures the heap and the live-tensor peak. Run it in a fresh process per
 * configuration: a heap that grew for an earlier, larger configuration stays grown. Two
 * or three steps reach the steady state (the first creates the optimizer's slots; the
 * allocator's fragmentation settles by the second).
 */
export async function measureTrainStepMemory(
  model: tf.LayersModel,
  batch: number,
  steps = 3,
): Promise<TrainStepMemory> {
  const tracker = trackLiveBytes();
  try {
    await timeTrainStep(model, batch, { warmup: 0, runs: steps });
    const peak = tracker.peak();
    return { heapBytes: wasmHeapBytes(), livePeakBytes: peak.peakBytes, peakKernels: peak.peakKernels };
  } finally {
    tracker.stop();
  }
}
