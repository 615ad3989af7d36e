/**
 * The paper's Table 4 (Tan & Le 2019): ResNet-152 0.554 s against EfficientNet-B1 0.098 s
 * per image on one CPU core, a 5.7× latency ratio, measured again on tfjs's wasm backend
 * (single-threaded in Node: one core) with the generated models, batch 1, each at its own
 * resolution (ResNet-152 224 px, B1 240 px), beside the MACs ratio that the exact cost gives.
 *
 *   npm run bench -- table4            (or: node --import tsx bench/table4.ts [--runs N])
 *
 * --runs forward passes of each (default 9), interleaved, after one warm-up. The machine is shared with other
 * work, so the absolute times are noisy; the ratio of two medians measured back to back is
 * the figure to compare. Benchmarks assert nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { buildModel as buildB1, metadata as b1 } from "../generated/efficientnet/b1.ts";
import { buildModel as buildR152, metadata as r152 } from "../generated/resnet152/r152.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { formatMs, timeForward } from "../src/runtime/bench.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 9;
/** Table 4's figures: seconds per image on a single core (the paper's "Latency"). */
const PAPER = { resnet152: 0.554, b1: 0.098 };

tf.enableProdMode();
const backend = await selectBackend("wasm");
const models = [
  { name: "ResNet-152", build: buildR152, metadata: r152 },
  { name: "EfficientNet-B1", build: buildB1, metadata: b1 },
] as const;
// Interleaved: round k times ResNet-152 then B1, so that load from other processes on the
// shared machine falls on both alike; the ratio of medians and the ratio of minimums (the
// least disturbed runs) are printed.
const built = models.map((m) => ({ ...m, model: m.build(), runs: [] as number[] }));
for (const m of built) await timeForward(m.model, 1, { warmup: 1, runs: 0 });
for (let round = 0; round < RUNS; round++)
  for (const m of built) m.runs.push((await timeForward(m.model, 1, { warmup: 0, runs: 1 })).medianMs);
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const m of built)
  console.log(
    `${m.name.padEnd(16)} ${m.metadata.resolution} px  ${(m.metadata.macs / 1e9).toFixed(3).padStart(7)} G MACs  ${m.metadata.params.trainable.toLocaleString("en-US").padStart(11)} params  forward at batch 1: median ${formatMs(median(m.runs))}, min ${formatMs(Math.min(...m.runs))} (runs: ${m.runs.map(formatMs).join(", ")})`,
  );
const [r, b] = built;
console.log("");
console.log(
  `latency ratio ResNet-152 / B1 on ${backend.name} (tfjs ${tf.version.tfjs}, Node ${process.version}, one thread): ${(median(r.runs) / median(b.runs)).toFixed(2)}× (medians), ${(Math.min(...r.runs) / Math.min(...b.runs)).toFixed(2)}× (minimums); MACs ratio ${(r152.macs / b1.macs).toFixed(2)}×; the paper's Table 4: ${(PAPER.resnet152 / PAPER.b1).toFixed(1)}× (${PAPER.resnet152} s vs ${PAPER.b1} s on one CPU core)`,
);
