/**
 * Generated EfficientNet-B0 against a hand-written one.
 *
 *   npm run bench -- models            (or: node --import tsx bench/models.ts [--runs N] [--batches 4,16])
 *
 * The generated model is generated/efficientnet/b0.ts, exactly as `effnet compile` checks
 * it in. The hand-written one is below: EfficientNet-B0 written directly with tf.layers,
 * the way one would port Keras's applications/efficientnet.py by hand (its block loop and
 * DEFAULT_BLOCKS_ARGS). Both use `same` padding for stride-2 convolutions where Keras pads
 * explicitly (ZeroPadding2D + `valid`): the same output sizes and work. Goal: generated =
 * hand-written (ratio 1.00×), and a training step within 4× a forward pass of the same batch.
 *
 * Measured per backend: forward latency at batch 1 and 224×224 (wasm and cpu); on wasm, at
 * each training batch (default 4 and 16, `effnet train`'s default), a forward pass and a
 * training step (trainOnBatch: forward, backward, Adam) of the same batch, alternating
 * run by run so that other work on the machine slows both alike: their ratio is the
 * figure to compare across runs. Median of --runs runs after one warm-up. Benchmarks
 * assert nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { buildModel as buildGeneratedB0, metadata } from "../generated/efficientnet/b0.ts";
import { selectBackend, type BackendChoice } from "../src/runtime/backend.ts";
import { formatMs, textTable, timeForward, timeForwardAndTrainStep, type Timing } from "../src/runtime/bench.ts";

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const RUNS = Number(option("runs", "5"));
const BATCHES = option("batches", "4,16").split(",").map(Number);
/** Issue 7's goal for a training step against a forward pass of the same batch. */
const STEP_GOAL = 4;

// ---------------------------------------------------------------------------------------
// Hand-written EfficientNet-B0 (Keras applications/efficientnet.py, EfficientNet() and block()).

const BLOCKS = [
  { kernel: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expand: 1, strides: 1 },
  { kernel: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expand: 6, strides: 2 },
  { kernel: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expand: 6, strides: 2 },
  { kernel: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expand: 6, strides: 2 },
  { kernel: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expand: 6, strides: 1 },
  { kernel: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expand: 6, strides: 2 },
  { kernel: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expand: 6, strides: 1 },
];
const SE_RATIO = 0.25;
const DROP_CONNECT_RATE = 0.2;
const BN = { momentum: 0.99, epsilon: 1e-3 };

function handWrittenB0(): tf.LayersModel {
  type T = tf.SymbolicTensor;
  const bn = (name: string, x: T) => tf.layers.batchNormalization({ name, axis: -1, ...BN }).apply(x) as T;
  const swish = (name: string, x: T) => tf.layers.activation({ name, activation: "swish" }).apply(x) as T;

  function block(
    x: T,
    name: string,
    o: { filtersIn: number; filtersOut: number; kernel: number; strides: number; expand: number; dropRate: number },
  ): T {
    const input = x;
    const filters = o.filtersIn * o.expand;
    if (o.expand !== 1) {
      x = tf.layers
        .conv2d({ name: `${name}expand_conv`, filters, kernelSize: 1, padding: "same", useBias: false })
        .apply(x) as T;
      x = swish(`${name}expand_activation`, bn(`${name}expand_bn`, x));
    }
    x = tf.layers
      .depthwiseConv2d({
        name: `${name}dwconv`,
        kernelSize: o.kernel,
        strides: o.strides,
        padding: "same",
        useBias: false,
      })
      .apply(x) as T;
    x = swish(`${name}activation`, bn(`${name}bn`, x));
    const reduced = Math.max(1, Math.floor(o.filtersIn * SE_RATIO));
    let se = tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }).apply(x) as T;
    se = tf.layers.reshape({ name: `${name}se_reshape`, targetShape: [1, 1, filters] }).apply(se) as T;
    se = tf.layers
      .conv2d({ name: `${name}se_reduce`, filters: reduced, kernelSize: 1, padding: "same", activation: "swish" })
      .apply(se) as T;
    se = tf.layers
      .conv2d({ name: `${name}se_expand`, filters, kernelSize: 1, padding: "same", activation: "sigmoid" })
      .apply(se) as T;
    x = tf.layers.multiply({ name: `${name}se_excite` }).apply([x, se]) as T;
    x = tf.layers
      .conv2d({ name: `${name}project_conv`, filters: o.filtersOut, kernelSize: 1, padding: "same", useBias: false })
      .apply(x) as T;
    x = bn(`${name}project_bn`, x);
    if (o.strides === 1 && o.filtersIn === o.filtersOut) {
      if (o.dropRate > 0)
        x = tf.layers
          .dropout({ name: `${name}drop`, rate: o.dropRate, noiseShape: [null, 1, 1, 1] as unknown as number[] })
          .apply(x) as T;
      x = tf.layers.add({ name: `${name}add` }).apply([x, input]) as T;
    }
    return x;
  }

  const input = tf.input({ name: "input", shape: [224, 224, 3] });
  let x = tf.layers
    .conv2d({ name: "stem_conv", filters: 32, kernelSize: 3, strides: 2, padding: "same", useBias: false })
    .apply(input) as T;
  x = swish("stem_activation", bn("stem_bn", x));
  const totalBlocks = BLOCKS.reduce((n, b) => n + b.repeats, 0);
  let b = 0;
  BLOCKS.forEach((args, i) => {
    for (let j = 0; j < args.repeats; j++) {
      x = block(x, `block${i + 1}${String.fromCharCode(97 + j)}_`, {
        ...args,
        filtersIn: j === 0 ? args.filtersIn : args.filtersOut,
        strides: j === 0 ? args.strides : 1,
        dropRate: (DROP_CONNECT_RATE * b) / totalBlocks,
      });
      b++;
    }
  });
  x = tf.layers
    .conv2d({ name: "top_conv", filters: 1280, kernelSize: 1, padding: "same", useBias: false })
    .apply(x) as T;
  x = swish("top_activation", bn("top_bn", x));
  x = tf.layers.globalAveragePooling2d({ name: "avg_pool" }).apply(x) as T;
  x = tf.layers.dropout({ name: "top_dropout", rate: 0.2 }).apply(x) as T;
  x = tf.layers.dense({ name: "predictions", units: 1000, activation: "softmax" }).apply(x) as T;
  return tf.model({ name: "efficientnetb0_by_hand", inputs: input, outputs: x });
}

// ---------------------------------------------------------------------------------------

type Model = "generated" | "hand-written";

interface LatencyRow {
  readonly backend: string;
  readonly model: Model;
  readonly forward1: Timing;
}

interface TrainingRow {
  readonly model: Model;
  readonly batch: number;
  readonly forward: Timing;
  readonly step: Timing;
}

const BUILDERS = [
  ["generated", () => buildGeneratedB0()],
  ["hand-written", handWrittenB0],
] as const;

/** Trainable parameters: the generated model also stores its input normalisation's 7 statistics, which the hand-written one leaves out. */
const trainableParams = (model: tf.LayersModel) =>
  model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

function checkedModel(label: Model, build: () => tf.LayersModel): tf.LayersModel {
  const model = build();
  if (trainableParams(model) !== metadata.params.trainable)
    throw new Error(
      `${label} B0 has ${trainableParams(model)} trainable parameters, the audit ${metadata.params.trainable}: not the same network`,
    );
  return model;
}

function dispose(model: tf.LayersModel): void {
  model.dispose();
  tf.disposeVariables();
}

async function measureLatency(backend: BackendChoice): Promise<LatencyRow[]> {
  const selected = await selectBackend(backend);
  console.error(`${backend}: ${selected.reason}`);
  // Whichever model is timed first pays for the backend's memory growing to its working
  // size (measured: ~10% at batch 1), so one untimed pass of each first.
  for (const [, build] of BUILDERS) {
    const model = build();
    await timeForward(model, 1, { warmup: 1, runs: 0 });
    dispose(model);
  }
  const rows: LatencyRow[] = [];
  for (const [label, build] of BUILDERS) {
    const model = checkedModel(label, build);
    rows.push({ backend, model: label, forward1: await timeForward(model, 1, { warmup: 1, runs: RUNS }) });
    console.error(`${backend} ${label}: forward ×1 ${formatMs(rows.at(-1)!.forward1.medianMs)}`);
    dispose(model);
  }
  return rows;
}

/** On wasm: forward and step of each batch, interleaved (see header); batches in increasing order, so the heap grows once per batch. */
async function measureTraining(): Promise<TrainingRow[]> {
  await selectBackend("wasm");
  const rows: TrainingRow[] = [];
  for (const batch of [...BATCHES].sort((a, b) => a - b)) {
    for (const [label, build] of BUILDERS) {
      const model = checkedModel(label, build);
      const { forward, step } = await timeForwardAndTrainStep(model, batch, { warmup: 1, runs: RUNS });
      rows.push({ model: label, batch, forward, step });
      console.error(
        `wasm ${label} ×${batch}: forward ${formatMs(forward.medianMs)}, step ${formatMs(step.medianMs)} (${(step.medianMs / forward.medianMs).toFixed(2)}×)`,
      );
      dispose(model);
    }
  }
  return rows;
}

tf.enableProdMode(); // no cpu-backend banner; the chosen backends are printed instead
const latency = [...(await measureLatency("wasm")), ...(await measureLatency("cpu"))];
const training = await measureTraining();
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
console.log(
  `EfficientNet-B0, ${metadata.params.total.toLocaleString("en-US")} params, 224×224; median of ${RUNS} runs after 1 warm-up; tfjs ${tf.version.tfjs}, node ${process.version}, ${process.arch}`,
);
const handLatency = (r: LatencyRow) => latency.find((h) => h.backend === r.backend && h.model === "hand-written")!;
console.log(
  textTable(
    ["backend", "model", "forward ×1", "vs hand"],
    latency.map((r) => [
      r.backend,
      r.model,
      formatMs(r.forward1.medianMs),
      ratio(r.forward1.medianMs, handLatency(r).forward1.medianMs),
    ]),
  ),
);
console.log("");
const handTraining = (r: TrainingRow) => training.find((h) => h.batch === r.batch && h.model === "hand-written")!;
console.log(
  textTable(
    ["wasm", "batch", "forward", "train step", "vs hand", "step / forward", "goal"],
    training.map((r) => {
      const stepRatio = r.step.medianMs / r.forward.medianMs;
      return [
        r.model,
        String(r.batch),
        formatMs(r.forward.medianMs),
        formatMs(r.step.medianMs),
        ratio(r.step.medianMs, handTraining(r).step.medianMs),
        `${stepRatio.toFixed(2)}×`,
        `≤ ${STEP_GOAL}× ${stepRatio <= STEP_GOAL ? "met" : "NOT met"}`,
      ];
    }),
  ),
);
console.log(
  `vs hand: generated ÷ hand-written (goal 1.00×). step / forward: training step (forward, backward, Adam) ÷ forward pass of the same batch, interleaved runs (goal ≤ ${STEP_GOAL}×, issue 7). Training is not timed on cpu (seconds per step).`,
);
