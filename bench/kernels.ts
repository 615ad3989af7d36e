/**
 * Benchmark of effnet's training kernels (src/runtime/kernels).
 *
 *   node --import tsx bench/kernels.ts [--runs N] [--batch B] [--size S] [--channels C]
 *
 * Configurations:
 *   wasm (new)      tfjs-backend-wasm + our Conv2DBackpropFilter /
 *                   DepthwiseConv2dNative{BackpropFilter,BackpropInput}
 *                   (wasm has none of them, so there is no "wasm original")
 *   cpu (original)  tfjs-backend-cpu's own kernels
 *   cpu (new)       tfjs-backend-cpu with our filter-gradient kernels
 *
 * Two tables: each gradient kernel alone, and a whole training step
 * (forward + backward + SGD update via optimizer.minimize) of a small
 * MobileNet-like conv stack. Each time is the median of N runs after one
 * warm-up run (the warm-up also pays for wasm module init and allocations).
 */
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels, restoreOriginalKernels } from '../src/runtime/kernels/index.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const RUNS = option('runs', 5);
const BATCH = option('batch', 8);
const SIZE = option('size', 64);
const CHANNELS = option('channels', 32);

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
  backend: 'wasm' | 'cpu';
  newKernels: boolean;
  /** The original cpu filter gradients are slow; fewer runs keep the bench short. */
  runs: number;
}

const CONFIGS: Config[] = [
  { label: 'wasm (new)', backend: 'wasm', newKernels: true, runs: RUNS },
  { label: 'cpu (original)', backend: 'cpu', newKernels: false, runs: Math.min(RUNS, 3) },
  { label: 'cpu (new)', backend: 'cpu', newKernels: true, runs: RUNS },
];

async function activate(config: Config): Promise<void> {
  await tf.setBackend(config.backend);
  await tf.ready();
  if (config.newKernels) registerTrainingKernels(config.backend);
  else restoreOriginalKernels(config.backend);
}

const inputShape: [number, number, number, number] = [BATCH, SIZE, SIZE, CHANNELS];

/** Each gradient kernel alone, through the public tf ops that dispatch to it. */
function kernelCases(): { name: string; run: () => tf.Tensor }[] {
  const x = seededTensor(inputShape, 1) as tf.Tensor4D;
  const dyFull = seededTensor(inputShape, 2) as tf.Tensor4D;
  const dyHalf = seededTensor([BATCH, SIZE / 2, SIZE / 2, CHANNELS], 3) as tf.Tensor4D;
  const depthwiseFilter = seededTensor([3, 3, CHANNELS, 1], 4) as tf.Tensor4D;
  // tf.grad of a depthwise conv is the public route to the depthwise backprop kernels.
  const depthwiseInputGrad = (stride: number, dy: tf.Tensor4D) => () =>
    tf.grad((input: tf.Tensor) => tf.depthwiseConv2d(input as tf.Tensor4D, depthwiseFilter, stride, 'same'))(x, dy);
  const depthwiseFilterGrad = (stride: number, dy: tf.Tensor4D) => () =>
    tf.grad((filter: tf.Tensor) => tf.depthwiseConv2d(x, filter as tf.Tensor4D, stride, 'same'))(depthwiseFilter, dy);
  return [
    { name: 'Conv2DBackpropFilter 3x3 s1', run: () => tf.conv2dTranspose === undefined ? x : convFilterGrad(x, dyFull, 3, 1) },
    { name: 'Conv2DBackpropFilter 1x1 s1', run: () => convFilterGrad(x, dyFull, 1, 1) },
    { name: 'Conv2DBackpropFilter 3x3 s2', run: () => convFilterGrad(x, dyHalf, 3, 2) },
    { name: 'DepthwiseBackpropFilter 3x3 s1', run: depthwiseFilterGrad(1, dyFull) },
    { name: 'DepthwiseBackpropFilter 3x3 s2', run: depthwiseFilterGrad(2, dyHalf) },
    { name: 'DepthwiseBackpropInput 3x3 s1', run: depthwiseInputGrad(1, dyFull) },
    { name: 'DepthwiseBackpropInput 3x3 s2', run: depthwiseInputGrad(2, dyHalf) },
  ];
}

function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, kernelSize: number, stride: number): tf.Tensor {
  return tf.tidy(() => {
    const filter = tf.zeros([kernelSize, kernelSize, CHANNELS, CHANNELS]) as tf.Tensor4D;
    return tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, stride, 'same'))(filter, dy);
  });
}

/**
 * A MobileNet-like stack: conv3x3 → swish → depthwise3x3 → swish → conv1x1
 * → depthwise3x3/2 → swish → global average pool → dense → softmax CE.
 */
function makeTrainingStep(): { step: () => tf.Scalar; dispose: () => void } {
  const variables = {
    stem: tf.variable(seededTensor([3, 3, CHANNELS, CHANNELS], 10).mul(0.1)),
    depthwise1: tf.variable(seededTensor([3, 3, CHANNELS, 1], 11).mul(0.3)),
    pointwise: tf.variable(seededTensor([1, 1, CHANNELS, CHANNELS], 12).mul(0.2)),
    depthwise2: tf.variable(seededTensor([3, 3, CHANNELS, 1], 13).mul(0.3)),
    dense: tf.variable(seededTensor([CHANNELS, 10], 14).mul(0.2)),
  };
  const images = seededTensor(inputShape, 20) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'), 10);
  const optimizer = tf.train.sgd(0.01);
  const swish = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));
  const loss = () =>
    tf.tidy(() => {
      let h: tf.Tensor4D = swish(tf.conv2d(images, variables.stem as tf.Tensor4D, 1, 'same')) as tf.Tensor4D;
      h = swish(tf.depthwiseConv2d(h, variables.depthwise1 as tf.Tensor4D, 1, 'same')) as tf.Tensor4D;
      h = tf.conv2d(h, variables.pointwise as tf.Tensor4D, 1, 'same');
      h = swish(tf.depthwiseConv2d(h, variables.depthwise2 as tf.Tensor4D, 2, 'same')) as tf.Tensor4D;
      const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
      const logits = tf.matMul(pooled, variables.dense as tf.Tensor2D);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
  return {
    step: () => optimizer.minimize(loss, true) as tf.Scalar,
    dispose: () => {
      Object.values(variables).forEach((v) => v.dispose());
      images.dispose();
      labels.dispose();
      optimizer.dispose();
    },
  };
}

async function main(): Promise<void> {
  const kernelNames = kernelCases.length >= 0 ? [] as string[] : [];
  const kernelTimes = new Map<string, Map<string, number>>();
  const stepTimes = new Map<string, number>();

  for (const config of CONFIGS) {
    await activate(config);
    const cases = kernelCases();
    for (const { name, run } of cases) {
      if (!kernelNames.includes(name)) kernelNames.push(name);
      const ms = await medianMs(async () => {
        const result = run();
        await result.data();
        result.dispose();
      }, config.runs);
      if (!kernelTimes.has(name)) kernelTimes.set(name, new Map());
      kernelTimes.get(name)!.set(config.label, ms);
    }
    const training = makeTrainingStep();
    stepTimes.set(
      config.label,
      await medianMs(async () => {
        const loss = training.step();
        await loss.data();
        loss.dispose();
      }, config.runs),
    );
    training.dispose();
    tf.disposeVariables();
  }

  const labels = CONFIGS.map((c) => c.label);
  const column = (text: string, width: number) => text.padStart(width);
  const firstWidth = 34;
  const width = 16;
  const header = 'kernel / step'.padEnd(firstWidth) + labels.map((l) => column(l, width)).join('') + column('cpu speed-up', width);
  const row = (name: string, times: Map<string, number>) => {
    const speedUp = (times.get('cpu (original)') ?? NaN) / (times.get('cpu (new)') ?? NaN);
    return (
      name.padEnd(firstWidth) +
      labels.map((l) => column(`${(times.get(l) ?? NaN).toFixed(1)} ms`, width)).join('') +
      column(`${speedUp.toFixed(1)}x`, width)
    );
  };

  console.log(
    `effnet training kernels — input ${BATCH}x${SIZE}x${SIZE}x${CHANNELS} (NHWC), ` +
      `median of ${RUNS} runs (cpu original: ${Math.min(RUNS, 3)}) after 1 warm-up; ` +
      `tfjs ${tf.version.tfjs}, wasm threads ${tfWasm.getThreadsCount()}, node ${process.version}`,
  );
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const name of kernelNames) console.log(row(name, kernelTimes.get(name)!));
  console.log('-'.repeat(header.length));
  const stepRow = new Map(stepTimes);
  console.log(row('training step (fwd+bwd+SGD)', stepRow));
}

await main();
