import * as tf from "@tensorflow/tfjs";
import type { BackendChoice } from "../../runtime/backend.ts";
import { trainingMemoryEstimate } from "../../cost/training.ts";
import { formatBytes } from "../../cost/units.ts";
import { formatMs, timeForward, timeTrainStep } from "../../runtime/bench.ts";
import { wasmHeapBytes } from "../../runtime/heap.ts";
import { refusedForMemory } from "./memory_check.ts";
import { type CommandDef, EXIT, UsageError } from "../command.ts";
import { compileOneVariant, SINGLE_VARIANT_OPTIONS, useBackend } from "../model-command.ts";
import { importVariantModule } from "../../codegen/import-module.ts";
import { displayPath } from "../../codegen/generate.ts";
import { renderTable } from "../../report/table.ts";
import type { Compilation } from "../../compile.ts";
import { splitSide, variantOf } from "./diff.ts";

const BENCH_BACKENDS: readonly BackendChoice[] = ["wasm", "cpu", "tensorflow"];

export const benchModelCommand: CommandDef = {
  name: "bench-model",
  summary: "measure a variant's forward latency and training-step time per backend",
  usage:
    "effnet bench-model FILE --variant NAME [--backend wasm,cpu] [--runs N] [--batch N] [--resolution N] [--no-train]\n       effnet bench-model A.effnet:V B.effnet:W ... [--backend wasm] [--runs N]",
  details:
    "Builds the variant's generated model on each backend and times, as the median of --runs runs after a warm-up: a forward pass at batch 1, a forward pass at the training batch, and one training step (trainOnBatch: forward, backward, Adam) at that batch. Then the training step over the forward pass of the same batch, the wasm heap after training (it only grows: the peak) and effnet's memory estimate. Each figure is printed as soon as it is measured. A batch whose estimate exceeds the backend's memory (wasm: its 4 GiB heap) is refused before anything is allocated (EFF0007) unless --allow-huge. Backends that are not installed (tensorflow needs @tensorflow/tfjs-node) are reported and skipped.\n\nWith two or more FILE:VARIANT arguments it compares models as the paper's Table 4 does: each model's forward latency at batch 1 at its own resolution, on one backend (the first of --backend, default wasm: one thread in Node, so one core), interleaved round by round so that load on the machine falls on all alike, and each latency ratio to the first model beside its MACs ratio.",
  positionals: { min: 1, max: 8 },
  options: {
    ...SINGLE_VARIANT_OPTIONS,
    backend: {
      type: "string",
      short: "b",
      multiple: true,
      value: "NAMES",
      description: "backends to measure, comma-separated (default wasm,cpu)",
    },
    runs: { type: "string", value: "N", description: "timed runs per figure, after one warm-up (default 5)" },
    batch: { type: "string", value: "N", description: "training batch size (default 8)" },
    resolution: { type: "string", short: "r", value: "N", description: "input resolution (default: the variant's)" },
    "no-train": { type: "boolean", description: "time forward passes only" },
    "train-on-cpu": {
      type: "boolean",
      description: "also time training on cpu (slow: seconds per step at full resolution)",
    },
  },
  conflicts: [
    ["no-train", "batch"],
    ["no-train", "train-on-cpu"],
  ],
  examples: [
    "effnet bench-model specs/efficientnet.effnet --variant B0",
    "effnet bench-model specs/mobilenetv2.effnet --variant V2 --backend wasm --batch 16",
    "effnet bench-model specs/resnet152.effnet:R152 specs/efficientnet.effnet:B1   # the paper's Table 4",
  ],
  run: async (inv) => {
    const backends = inv.list("backend");
    const choices = (backends.length ? backends : ["wasm", "cpu"]) as BackendChoice[];
    for (const b of choices)
      if (!BENCH_BACKENDS.includes(b))
        throw new UsageError(`--backend takes ${BENCH_BACKENDS.join(", ")}, not \`${b}\``);
    const runs = inv.integer("runs", 5);
    if (inv.positionals.length > 1) return compareModels(inv, choices[0] ?? "wasm", backends.length > 0, runs);
    if (inv.positionals.length !== 1) throw new UsageError("give one FILE --variant NAME, or two or more FILE:VARIANT");
    const batch = inv.integer("batch", 8);
    const loaded = await compileOneVariant(inv);
    if (!loaded) return EXIT.errors;
    const { compiled, module } = loaded;
    const resolution = inv.integer("resolution", module.metadata.resolution, 8);

    const train = inv.options["no-train"] !== true;
    const trainsOn = (backendName: string) => train && (backendName !== "cpu" || inv.options["train-on-cpu"] === true);
    // Memory: refuse before anything is allocated (EFF0007), unless --allow-huge.
    for (const choice of choices)
      if (trainsOn(choice) && refusedForMemory(inv, compiled, { batch, resolution }, choice, "--batch"))
        return EXIT.errors;

    // Each figure is printed as soon as it is measured, so a later failure loses nothing.
    inv.io.out(
      `${compiled.ir.network} ${compiled.ir.variant} at ${resolution}×${resolution}, ${compiled.cost.params.total.toLocaleString("en-US")} params; median of ${runs} runs after 1 warm-up; tfjs ${tf.version.tfjs}, node ${process.version}\n`,
    );
    const figure = (backendName: string, what: string, value: string) =>
      inv.io.out(`${backendName.padEnd(10)}  ${what.padEnd(18)}  ${value.padStart(10)}\n`);
    let measured = 0;
    for (const choice of choices) {
      let backendName: string;
      try {
        backendName = (await useBackend(choice)).name;
      } catch (e) {
        inv.io.err(`${choice}: skipped (${(e as { userMessage?: string }).userMessage ?? (e as Error).message})\n`);
        continue;
      }
      const timing = { warmup: 1, runs };
      const model = module.buildModel({ resolution });
      try {
        figure(backendName, "forward ×1", formatMs((await timeForward(model, 1, timing)).medianMs));
        measured++;
        if (!trainsOn(backendName)) continue;
        const forwardBatch = await timeForward(model, batch, timing);
        figure(backendName, `forward ×${batch}`, formatMs(forwardBatch.medianMs));
        const step = await timeTrainStep(model, batch, timing);
        figure(backendName, `train step ×${batch}`, formatMs(step.medianMs));
        figure(backendName, "step / forward", `${(step.medianMs / forwardBatch.medianMs).toFixed(2)}×`);
        const heap = wasmHeapBytes();
        const estimate = trainingMemoryEstimate(compiled.ir, { batch, resolution, wasmHeap: heap !== undefined });
        if (heap !== undefined) figure(backendName, `wasm heap ×${batch}`, formatBytes(heap));
        figure(backendName, `memory estimate ×${batch}`, formatBytes(estimate.totalBytes));
      } finally {
        model.dispose();
        tf.disposeVariables();
      }
    }
    return measured ? EXIT.ok : EXIT.errors;
  },
};

/**
 * Table 4 of the paper for any models: forward latency at batch 1, each at its own
 * resolution, on one backend, interleaved (round k times every model once), with each
 * model's latency and MACs as ratios to the first's. Options of the single-model mode
 * (--variant, --batch, …) do not apply.
 */
async function compareModels(
  inv: Parameters<CommandDef["run"]>[0],
  choice: BackendChoice,
  chosen: boolean,
  runs: number,
): Promise<number> {
  for (const option of ["variant", "batch", "resolution", "no-train", "train-on-cpu"])
    if (
      inv.options[option] !== undefined &&
      inv.options[option] !== false &&
      !(Array.isArray(inv.options[option]) && inv.options[option].length === 0)
    )
      throw new UsageError(
        `--${option} is for one model (FILE --variant NAME); a comparison of FILE:VARIANT arguments takes --backend and --runs`,
      );
  if (chosen && inv.list("backend").length > 1)
    throw new UsageError("a comparison runs on one backend: give one --backend");
  const cache = new Map<string, Compilation | undefined>();
  const sides = inv.positionals.map((text) => ({ text, side: splitSide(text) }));
  const compiled = sides.map(({ side }) => variantOf(side, cache, inv.options["allow-huge"] === true, inv.io));
  if (compiled.some((c) => c === undefined)) return EXIT.errors;
  const backendName = (await useBackend(choice)).name;
  const models = await Promise.all(
    compiled.map(async (c, i) => {
      const module = await importVariantModule(c!, displayPath(sides[i].side.path));
      return { c: c!, model: module.buildModel(), times: [] as number[] };
    }),
  );
  inv.io.out(
    `Forward latency at batch 1, each at its own resolution, on ${backendName}: median of ${runs} interleaved runs after 1 warm-up; tfjs ${tf.version.tfjs}, node ${process.version}\n`,
  );
  try {
    for (const m of models) await timeForward(m.model, 1, { warmup: 1, runs: 0 });
    for (let round = 0; round < runs; round++)
      for (const m of models) m.times.push((await timeForward(m.model, 1, { warmup: 0, runs: 1 })).medianMs);
  } finally {
    for (const m of models) m.model.dispose();
    tf.disposeVariables();
  }
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [first] = models;
  inv.io.out(
    renderTable(
      [
        { header: "Model" },
        { header: "Resolution", align: "right" },
        { header: "Params", align: "right" },
        { header: "MACs", align: "right" },
        { header: "Latency", align: "right" },
        { header: "Min", align: "right" },
        { header: "Latency ratio", align: "right" },
        { header: "MACs ratio", align: "right" },
      ],
      models.map((m) => [
        `${m.c.ir.network} ${m.c.ir.variant}`,
        `${m.c.ir.inputShape[0]}`,
        m.c.cost.params.total.toLocaleString("en-US"),
        `${(m.c.cost.macs / 1e9).toFixed(3)} G`,
        formatMs(median(m.times)),
        formatMs(Math.min(...m.times)),
        `${(median(m.times) / median(first.times)).toFixed(2)}×`,
        `${(m.c.cost.macs / first.c.cost.macs).toFixed(2)}×`,
      ]),
      "",
      Math.max(60, inv.io.columns ?? 120),
    ) + "\n",
  );
  return EXIT.ok;
}
