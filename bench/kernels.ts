/**
 * Benchmark of effnet's training kernels (src/runtime/kernels).
 *
 *   node --import tsx bench/kernels.ts [--runs N] [--original-runs N] [--batch B] [--size S]
 *                                      [--channels C] [--skip-cpu-original]
 *
 * Configurations:
 *   wasm (new)      tfjs-backend-wasm + our Conv2DBackpropFilter /
 *                   DepthwiseConv2dNative{BackpropFilter,BackpropInput}
 *                   (wasm has none of them, so there is no "wasm original")
 *                   and our Conv2DBackpropInput
 *   wasm (tfjs)     tfjs-backend-wasm's own Conv2DBackpropInput (the only
 *                   gradient kernel of these it has; other rows show '-'),
 *                   Mean, Slice and FusedBatchNorm (forward kernels that
 *                   effnet also replaces on wasm)
 *   cpu (original)  tfjs-backend-cpu's own kernels
 *   cpu (new)       tfjs-backend-cpu with our filter-gradient kernels
 *
 * Two tables: each gradient kernel alone, and a whole training step
 * (forward + backward + SGD update via optimizer.minimize) of a small
 * MobileNet-like conv stack. Each time is the median of N runs after one
 * warm-up run (the warm-up also pays for wasm module init and allocations).
 * tfjs-backend-cpu's original filter gradients take ~30 s per call at the
 * default size, so that column defaults to a single timed run
 * (--original-runs) and can be skipped (--skip-cpu-original).
 */
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { registerTrainingKernels, restoreOriginalKernels, trainingKernelsFor } from "../src/runtime/kernels/index.ts";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const RUNS = option("runs", 5);
const ORIGINAL_RUNS = option("original-runs", 1);
const BATCH = option("batch", 8);
const SIZE = option("size", 64);
const CHANNELS = option("channels", 32);

/** Deterministic uniform [-1, 1) data (LCG), identical on every backend. */
function seededTensor(shape: number[], seed: number): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let state = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32) * 2 - 1;
  }
  return tf.tensor(values, shape);
}

/** Median wall time in ms of `run` (which must block until its result is computed). */
async function medianMs(run: () => Promise<void>, runs: number): Promise<number> {
  await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface Config {
  label: string;
  backend: "wasm" | "cpu";
  newKernels: boolean;
  runs: number;
}

const CONFIGS: Config[] = [
  { label: "wasm (new)", backend: "wasm", newKernels: true, runs: RUNS },
  { label: "wasm (tfjs)", backend: "wasm", newKernels: false, runs: ORIGINAL_RUNS },
  { label: "cpu (original)", backend: "cpu", newKernels: false, runs: ORIGINAL_RUNS },
  { label: "cpu (new)", backend: "cpu", newKernels: true, runs: RUNS },
].filter((config) => !(process.argv.includes("--skip-cpu-original") && config.label === "cpu (original)")) as Config[];

async function activate(config: Config): Promise<void> {
  await tf.setBackend(config.backend);
  await tf.ready();
  if (config.newKernels) registerTrainingKernels(config.backend);
  else restoreOriginalKernels(config.backend);
}

const inputShape: [number, number, number, number] = [BATCH, SIZE, SIZE, CHANNELS];

interface KernelCase {
  label: string;
  kernelName: string;
  run: () => tf.Tensor;
}

/**
 * Each gradient kernel alone, called by name through the engine exactly as
 * tfjs-core's Conv2D_grad / DepthwiseConv2dNative_grad call it (so the
 * forward convolution is not part of the time).
 */
function makeKernelCases(): { cases: KernelCase[]; dispose: () => void } {
  const x = seededTensor(inputShape, 1);
  const dyFull = seededTensor(inputShape, 2);
  const dyHalf = seededTensor([BATCH, SIZE / 2, SIZE / 2, CHANNELS], 3);
  const depthwiseFilter = seededTensor([3, 3, CHANNELS, 1], 4);
  const kernelCase = (label: string, kernelName: string, inputs: tf.NamedTensorMap, attrs: object): KernelCase => ({
    label,
    kernelName,
    run: () => tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor,
  });
  const convFilter = (size: number, stride: number, dy: tf.Tensor) =>
    kernelCase(
      `Conv2DBackpropFilter ${size}x${size} s${stride}`,
      tf.Conv2DBackpropFilter,
      { x, dy },
      {
        strides: stride,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [size, size, CHANNELS, CHANNELS],
      },
    );
  const depthwiseFilterGrad = (stride: number, dy: tf.Tensor) =>
    kernelCase(
      `DepthwiseBackpropFilter 3x3 s${stride}`,
      tf.DepthwiseConv2dNativeBackpropFilter,
      { x, dy },
      {
        strides: stride,
        dilations: 1,
        pad: "same",
        filterShape: [3, 3, CHANNELS, 1],
      },
    );
  const channelStats = [7, 8, 9, 10].map((seed) => tf.tidy(() => tf.add(tf.abs(seededTensor([CHANNELS], seed)), 0.5)));
  const convFilterFull = seededTensor([3, 3, CHANNELS, CHANNELS], 5);
  const convFilterPointwise = seededTensor([1, 1, CHANNELS, CHANNELS], 6);
  const convInput = (filter: tf.Tensor, stride: number, dy: tf.Tensor) =>
    kernelCase(
      `Conv2DBackpropInput ${filter.shape[0]}x${filter.shape[1]} s${stride}`,
      tf.Conv2DBackpropInput,
      { dy, filter },
      {
        strides: stride,
        pad: "same",
        dataFormat: "NHWC",
        inputShape,
      },
    );
  const depthwiseInputGrad = (stride: number, dy: tf.Tensor) =>
    kernelCase(
      `DepthwiseBackpropInput 3x3 s${stride}`,
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy, filter: depthwiseFilter },
      {
        strides: stride,
        dilations: 1,
        pad: "same",
        inputShape,
      },
    );
  return {
    cases: [
      convFilter(3, 1, dyFull),
      convFilter(3, 2, dyHalf),
      convFilter(1, 1, dyFull),
      depthwiseFilterGrad(1, dyFull),
      depthwiseFilterGrad(2, dyHalf),
      depthwiseInputGrad(1, dyFull),
      depthwiseInputGrad(2, dyHalf),
      convInput(convFilterFull, 1, dyFull),
      convInput(convFilterFull, 2, dyHalf),
      convInput(convFilterPointwise, 1, dyFull),
      // Forward kernels replaced on wasm only (the cpu columns run tfjs's own).
      kernelCase("Mean over [0, 1, 2] (moments)", tf.Mean, { x }, { axis: [0, 1, 2], keepDims: false }),
      kernelCase("Mean over [1, 2] (global pool)", tf.Mean, { x }, { axis: [1, 2], keepDims: false }),
      kernelCase("Slice one image", tf.Slice, { x }, { begin: [1, 0, 0, 0], size: [1, -1, -1, -1] }),
      kernelCase("Slice spatial crop", tf.Slice, { x }, { begin: [0, 1, 1, 0], size: [-1, SIZE - 2, SIZE - 2, -1] }),
      kernelCase(
        "FusedBatchNorm",
        tf.FusedBatchNorm,
        { x, mean: channelStats[0], variance: channelStats[1], offset: channelStats[2], scale: channelStats[3] },
        { varianceEpsilon: 1e-3 },
      ),
    ],
    dispose: () =>
      tf.dispose([x, dyFull, dyHalf, depthwiseFilter, convFilterFull, convFilterPointwise, ...channelStats]),
  };
}

/**
 * A MobileNet-like stack: conv3x3 → swish → depthwise3x3 → swish → conv1x1
 * → depthwise3x3/2 → swish → global average pool → dense → softmax CE.
 */
function makeTrainingStep(): { step: () => tf.Scalar; dispose: () => void } {
  const scaled = (shape: number[], seed: number, scale: number) =>
    tf.variable(tf.tidy(() => tf.mul(seededTensor(shape, seed), scale)));
  const variables = {
    stem: scaled([3, 3, CHANNELS, CHANNELS], 10, 0.1),
    depthwise1: scaled([3, 3, CHANNELS, 1], 11, 0.3),
    pointwise: scaled([1, 1, CHANNELS, CHANNELS], 12, 0.2),
    depthwise2: scaled([3, 3, CHANNELS, 1], 13, 0.3),
    dense: scaled([CHANNELS, 10], 14, 0.2),
  };
  const images = seededTensor(inputShape, 20) as tf.Tensor4D;
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: BATCH }, (_, i) => i % 10),
        "int32",
      ),
      10,
    ),
  );
  const optimizer = tf.train.sgd(0.01);
  const swish = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));
  const loss = () =>
    tf.tidy(() => {
      let h = swish(tf.conv2d(images, variables.stem as tf.Tensor4D, 1, "same")) as tf.Tensor4D;
      h = swish(tf.depthwiseConv2d(h, variables.depthwise1 as tf.Tensor4D, 1, "same")) as tf.Tensor4D;
      h = tf.conv2d(h, variables.pointwise as tf.Tensor4D, 1, "same");
      h = swish(tf.depthwiseConv2d(h, variables.depthwise2 as tf.Tensor4D, 2, "same")) as tf.Tensor4D;
      const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
      const logits = tf.matMul(pooled, variables.dense as tf.Tensor2D);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
  return {
    step: () => optimizer.minimize(loss, true) as tf.Scalar,
    dispose: () => {
      tf.dispose([...Object.values(variables), images, labels]);
      optimizer.dispose();
    },
  };
}

const STEP_LABEL = "training step (fwd+bwd+SGD)";

async function main(): Promise<void> {
  /** times.get(row label).get(config label) = median ms */
  const times = new Map<string, Map<string, number>>();
  const record = (rowLabel: string, configLabel: string, ms: number) => {
    if (!times.has(rowLabel)) times.set(rowLabel, new Map());
    times.get(rowLabel)!.set(configLabel, ms);
  };
  let kernelRows: KernelCase[] = [];

  for (const config of CONFIGS) {
    await activate(config);
    const { cases, dispose } = makeKernelCases();
    kernelRows = cases;
    for (const { label, kernelName, run } of cases) {
      if (!tf.getKernel(kernelName, config.backend)) continue; // a kernel tfjs-backend-wasm lacks
      const ms = await medianMs(async () => {
        const result = run();
        await result.data();
        result.dispose();
      }, config.runs);
      record(label, config.label, ms);
    }
    dispose();
    if (config.backend === "wasm" && !config.newKernels) continue; // cannot train without our kernels
    const training = makeTrainingStep();
    const ms = await medianMs(async () => {
      const loss = training.step();
      await loss.data();
      loss.dispose();
    }, config.runs);
    record(STEP_LABEL, config.label, ms);
    training.dispose();
  }

  const replacedOnCpu = new Set(trainingKernelsFor("cpu").map((row) => row.kernelName));
  const configLabels = CONFIGS.map((c) => c.label);
  const firstWidth = 34;
  const width = 16;
  const header =
    "kernel / step".padEnd(firstWidth) +
    configLabels.map((l) => l.padStart(width)).join("") +
    "cpu orig/new".padStart(width);
  const line = (rowLabel: string, kernelName?: string) => {
    const rowTimes = times.get(rowLabel)!;
    const original = rowTimes.get("cpu (original)");
    const replaced = kernelName === undefined || replacedOnCpu.has(kernelName);
    const speedUp = !replaced
      ? "not replaced"
      : original === undefined
        ? "-"
        : `${(original / rowTimes.get("cpu (new)")!).toFixed(1)}x`;
    return (
      rowLabel.padEnd(firstWidth) +
      configLabels.map((l) => (rowTimes.has(l) ? `${rowTimes.get(l)!.toFixed(1)} ms` : "-").padStart(width)).join("") +
      speedUp.padStart(width)
    );
  };

  console.log(
    `effnet training kernels — input ${BATCH}x${SIZE}x${SIZE}x${CHANNELS} (NHWC), median of ${RUNS} runs ` +
      `(cpu original: ${ORIGINAL_RUNS}) after 1 warm-up; tfjs ${tf.version.tfjs}, ` +
      `wasm threads ${tfWasm.getThreadsCount()}, node ${process.version}`,
  );
  console.log(header);
  console.log("-".repeat(header.length));
  for (const { label, kernelName } of kernelRows) console.log(line(label, kernelName));
  console.log("-".repeat(header.length));
  console.log(line(STEP_LABEL));
}

await main();
