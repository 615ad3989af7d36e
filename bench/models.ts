/**
 * Generated EfficientNet-B0 against a hand-written one.
 *
 *   npm run bench -- models            (or: node --import tsx bench/models.ts [--runs N] [--batch N])
 *
 * The generated model is generated/efficientnet/b0.ts, exactly as `effnet compile` checks
 * it in. The hand-written one is below: EfficientNet-B0 written directly with tf.layers,
 * the way one would port Keras's applications/efficientnet.py by hand (its block loop and
 * DEFAULT_BLOCKS_ARGS). Both use `same` padding for stride-2 convolutions where Keras pads
 * explicitly (ZeroPadding2D + `valid`): the same output sizes and work. Goal: generated =
 * hand-written (ratio 1.00×), and a training step within 4× a forward pass of the same batch.
 *
 * Measured per backend: forward latency at batch 1 and 224×224 (wasm and cpu); forward at
 * the training batch and one training step (trainOnBatch: forward, backward, Adam) on
 * wasm. Median of --runs runs after one warm-up. Benchmarks assert nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { buildModel as buildGeneratedB0, metadata } from "../generated/efficientnet/b0.ts";
import { selectBackend, type BackendChoice } from "../src/runtime/backend.ts";
import { formatMs, textTable, timeForward, timeTrainStep, type Timing } from "../src/runtime/bench.ts";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const RUNS = option("runs", 5);
const BATCH = option("batch", 4);

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

interface Row {
  readonly backend: string;
  readonly model: "generated" | "hand-written";
  readonly forward1: Timing;
  readonly forwardBatch?: Timing;
  readonly step?: Timing;
}

async function measure(backend: BackendChoice, train: boolean): Promise<Row[]> {
  const selected = await selectBackend(backend);
  console.error(`${backend}: ${selected.reason}`);
  const rows: Row[] = [];
  const builders = [
    ["generated", () => buildGeneratedB0()],
    ["hand-written", handWrittenB0],
  ] as const;
  // Whichever model is timed first pays for the backend's memory growing to its working
  // size (measured: ~10% at batch 1), so one untimed pass of each at the largest batch first.
  for (const [, build] of builders) {
    const model = build();
    await timeForward(model, train ? BATCH : 1, { warmup: 1, runs: 0 });
    model.dispose();
    tf.disposeVariables();
  }
  for (const [label, build] of builders) {
    const model = build();
    if (model.countParams() !== metadata.params.total)
      throw new Error(
        `${label} B0 has ${model.countParams()} parameters, the audit ${metadata.params.total}: not the same network`,
      );
    const timing = { warmup: 1, runs: RUNS };
    const forward1 = await timeForward(model, 1, timing);
    const forwardBatch = train ? await timeForward(model, BATCH, timing) : undefined;
    const step = train ? await timeTrainStep(model, BATCH, timing) : undefined;
    rows.push({ backend, model: label, forward1, forwardBatch, step });
    model.dispose();
    tf.disposeVariables();
  }
  return rows;
}

tf.enableProdMode(); // no cpu-backend banner; the chosen backends are printed instead
const rows = [...(await measure("wasm", true)), ...(await measure("cpu", false))];
const handWritten = (r: Row) => rows.find((h) => h.backend === r.backend && h.model === "hand-written")!;
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? "–" : `${(a / b).toFixed(2)}×`;
console.log(
  `EfficientNet-B0, ${metadata.params.total.toLocaleString("en-US")} params, 224×224; median of ${RUNS} runs after 1 warm-up; tfjs ${tf.version.tfjs}, node ${process.version}, ${process.arch}`,
);
console.log(
  textTable(
    [
      "backend",
      "model",
      "forward ×1",
      "vs hand",
      `forward ×${BATCH}`,
      `train step ×${BATCH}`,
      "vs hand",
      "step / forward",
    ],
    rows.map((r) => [
      r.backend,
      r.model,
      formatMs(r.forward1.medianMs),
      ratio(r.forward1.medianMs, handWritten(r).forward1.medianMs),
      r.forwardBatch ? formatMs(r.forwardBatch.medianMs) : "–",
      r.step ? formatMs(r.step.medianMs) : "–",
      ratio(r.step?.medianMs, handWritten(r).step?.medianMs),
      ratio(r.step?.medianMs, r.forwardBatch?.medianMs),
    ]),
  ),
);
console.log(
  "vs hand: generated ÷ hand-written (goal 1.00×). step / forward: training step ÷ forward pass of the same batch (goal ≤ 4×). Training is not timed on cpu (seconds per step).",
);
