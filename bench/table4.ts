/**
 * The paper's Table 4 (Tan & Le 2019): ResNet-152 0.554 s against EfficientNet-B1 0.098 s
 * per image on one CPU core, a 5.7× latency ratio, measured again on tfjs's wasm backend
 * (single-threaded in Node: one core) with the generated models, batch 1, each at its own
 * resolution (ResNet-152 224 px, B1 240 px), beside the MACs ratio that the exact cost gives.
 *
 *   npm run bench -- table4            (or: node --import tsx bench/table4.ts [--runs N])
 *
 * Median of --runs forward passes after one warm-up. The machine is shared with other
 * work, so the absolute times are noisy; the ratio of two medians measured back to back is
 * the figure to compare. Benchmarks assert nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { buildModel as buildB1, metadata as b1 } from "../generated/efficientnet/b1.ts";
import { buildModel as buildR152, metadata as r152 } from "../generated/resnet152/r152.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { formatMs, timeForward } from "../src/runtime/bench.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
/** Table 4's figures: seconds per image on a single core (the paper's "Latency"). */
const PAPER = { resnet152: 0.554, b1: 0.098 };

tf.enableProdMode();
const backend = await selectBackend("wasm");
const models = [
  { name: "ResNet-152", build: buildR152, metadata: r152 },
  { name: "EfficientNet-B1", build: buildB1, metadata: b1 },
] as const;
const medians: number[] = [];
for (const m of models) {
  const model = m.build();
  const timing = await timeForward(model, 1, { warmup: 1, runs: RUNS });
  medians.push(timing.medianMs);
  console.log(
    `${m.name.padEnd(16)} ${m.metadata.resolution} px  ${(m.metadata.macs / 1e9).toFixed(3).padStart(7)} G MACs  ${m.metadata.params.trainable.toLocaleString("en-US").padStart(11)} params  forward at batch 1: ${formatMs(timing.medianMs)} (runs: ${timing.runs.map(formatMs).join(", ")})`,
  );
  model.dispose();
  tf.disposeVariables();
}
console.log("");
console.log(
  `latency ratio ResNet-152 / B1: ${(medians[0] / medians[1]).toFixed(2)}× on ${backend.name} (tfjs ${tf.version.tfjs}, Node ${process.version}, one thread); MACs ratio ${(r152.macs / b1.macs).toFixed(2)}×; the paper's Table 4: ${(PAPER.resnet152 / PAPER.b1).toFixed(1)}× (${PAPER.resnet152} s vs ${PAPER.b1} s on one CPU core)`,
);
