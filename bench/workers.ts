/**
 * Data-parallel training: images per second with 1 and 2 worker threads.
 *
 *   npm run bench -- workers     (or: node --import tsx bench/workers.ts [--runs N] [--configs 224x16,64x32,32x32] [--workers 1,2])
 *
 * EfficientNet-B0 (generated/efficientnet/b0.ts, 3 classes) trained by effnet's own
 * trainer (trainModel, Adam) on the shapes data set, on wasm: with 1 worker the step runs
 * on this thread; with N it is split over N worker threads (src/runtime/parallel.ts),
 * whose gradients this thread averages and applies. Per configuration (resolution ×
 * batch): the median step time of --runs steps after one warm-up step (which pays for
 * the heap's growth and the kernels' first calls), as images per second. The rows
 * at 64 and 32 px show where a second worker stops paying (`--workers auto`,
 * autoWorkers' MIN_SHARD_PIXELS): a small step is mostly tfjs's fixed per-op cost, which
 * every worker pays in full. On a shared machine the figures depend on what else runs:
 * the load average is printed beside them.
 */
import { loadavg } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { buildModel, metadata } from "../generated/efficientnet/b0.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { formatMs, textTable } from "../src/runtime/bench.ts";
import { shapesDataset } from "../src/runtime/data.ts";
import { trainModel } from "../src/runtime/train.ts";

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const RUNS = Number(option("runs", "3"));
const CONFIGS = option("configs", "224x16,64x32,32x32")
  .split(",")
  .map((c) => c.split("x").map(Number) as [number, number]);
const WORKERS = option("workers", "1,2").split(",").map(Number);
const MODULE = new URL("../generated/efficientnet/b0.ts", import.meta.url);

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Step times (ms) of one short run: 1 + RUNS steps of one epoch. */
async function stepTimes(resolution: number, batch: number, workers: number): Promise<number[]> {
  const build = { classes: 3, resolution, seed: 1 };
  const data = shapesDataset({ count: batch * (1 + RUNS), resolution, seed: 1 });
  const model = buildModel(build);
  const times: number[] = [];
  let last = performance.now();
  try {
    await trainModel(
      model,
      data,
      {
        epochs: 1,
        batchSize: batch,
        preciseBatchNormImages: 0,
        ...(workers > 1 ? { workers: { count: workers, module: MODULE, build } } : {}),
      },
      // From report to report; the first (warm-up, and the workers' start) is dropped.
      () => {
        times.push(performance.now() - last);
        last = performance.now();
      },
    );
  } finally {
    model.dispose();
  }
  return times.slice(1);
}

tf.enableProdMode();
const backend = await selectBackend("wasm");
console.error(`wasm: ${backend.reason}`);
const rows: string[][] = [];
for (const [resolution, batch] of CONFIGS) {
  const perWorkers = new Map<number, number>();
  for (const workers of WORKERS) {
    const load = loadavg()[0];
    const ms = median(await stepTimes(resolution, batch, workers));
    perWorkers.set(workers, ms);
    const speedup = perWorkers.has(1) && workers !== 1 ? `${(perWorkers.get(1)! / ms).toFixed(2)}×` : "–";
    rows.push([
      `${resolution}×${resolution}`,
      String(batch),
      String(workers),
      formatMs(ms),
      ((batch * 1000) / ms).toFixed(1),
      speedup,
      load.toFixed(1),
    ]);
    console.error(rows.at(-1)!.join("  "));
  }
}
console.log(
  `EfficientNet-B0 (${metadata.params.total.toLocaleString("en-US")} params at 1000 classes; here 3), effnet's trainer with Adam on wasm; median of ${RUNS} steps after 1 warm-up; tfjs ${tf.version.tfjs}, node ${process.version}, ${process.arch}`,
);
console.log(textTable(["input", "batch", "workers", "step", "images/s", "vs 1 worker", "load avg"], rows));
console.log(
  "workers: threads that split each batch (1: this thread). load avg: the machine's 1-minute load average when the row started (other processes share its cores).",
);
