/**
 * Training memory: the measured peak of effnet's own trainer beside effnet's estimate.
 *
 *   npm run bench -- memory     (or: node --import tsx bench/memory.ts [--variants B0,B1] [--batches 1,4,8,16] [--steps N])
 *
 * Each configuration (variant, batch) runs in a fresh process, because the wasm heap
 * never shrinks: after `--steps` training steps (trainOnBatch with Adam on random images
 * at the variant's own resolution, 1000 classes), the heap's size is the step's
 * high-water mark. Printed beside it: the most bytes of tensor buffers alive at once
 * (src/runtime/heap.ts), the kernel running then, and effnet's estimate
 * (src/cost/training.ts `trainingMemoryEstimate`, what `effnet train` checks before it
 * allocates). Goal: estimate within ±25 % of the measured heap. Configurations the
 * estimate says do not fit in wasm's 4 GiB are not run (they would abort).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { compile } from "../src/compile.ts";
import { trainingMemoryEstimate } from "../src/cost/training.ts";
import { selectBackend, WASM_HEAP_LIMIT_BYTES } from "../src/runtime/backend.ts";
import { measureTrainStepMemory, textTable } from "../src/runtime/bench.ts";

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const SPEC = "specs/efficientnet.effnet";
const MiB = 2 ** 20;
const mib = (bytes: number | undefined) => (bytes === undefined ? "–" : `${(bytes / MiB).toFixed(0)} MiB`);

async function child(variant: string, batch: number, steps: number): Promise<void> {
  tf.enableProdMode();
  await selectBackend("wasm");
  const { buildModel } = (await import(`../generated/efficientnet/${variant.toLowerCase()}.ts`)) as {
    buildModel: () => tf.LayersModel;
  };
  const model = buildModel();
  const measured = await measureTrainStepMemory(model, batch, steps);
  console.log(JSON.stringify(measured));
}

if (process.argv[2] === "--child") {
  await child(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
} else {
  const variants = option("variants", "B0,B1,B2,B3").split(",");
  const batches = option("batches", "1,4,8,16").split(",").map(Number);
  const steps = Number(option("steps", "3"));
  const compilation = compile({ path: SPEC, text: readFileSync(SPEC, "utf8") }, { variants });
  const rows: string[][] = [];
  for (const compiled of compilation.variants) {
    for (const batch of batches) {
      const estimate = trainingMemoryEstimate(compiled.ir, { batch });
      const label = [compiled.ir.variant, String(batch), `${compiled.ir.inputShape[0]} px`];
      if (estimate.totalBytes > WASM_HEAP_LIMIT_BYTES) {
        rows.push([...label, "not run", "–", mib(estimate.totalBytes), "over 4 GiB", "–"]);
        console.error(`${label.join(" ")}: estimate ${mib(estimate.totalBytes)} is over the 4 GiB wasm heap; not run`);
        continue;
      }
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "bench/memory.ts", "--child", compiled.ir.variant, String(batch), String(steps)],
        { encoding: "utf8", maxBuffer: 1 << 20 },
      );
      const line = run.stdout.trim().split("\n").at(-1) ?? "";
      if (run.status !== 0 || !line.startsWith("{")) {
        rows.push([...label, "failed", "–", mib(estimate.totalBytes), "–", (run.stderr || "").split("\n")[0]]);
        console.error(`${label.join(" ")}: failed\n${run.stderr}`);
        continue;
      }
      const measured = JSON.parse(line) as { heapBytes: number; livePeakBytes: number; peakKernels: string[] };
      const ratio = estimate.totalBytes / measured.heapBytes;
      rows.push([
        ...label,
        mib(measured.heapBytes),
        mib(measured.livePeakBytes),
        mib(estimate.totalBytes),
        `${((ratio - 1) * 100).toFixed(0)} %`,
        measured.peakKernels.join(" > "),
      ]);
      console.error(`${label.join(" ")}: heap ${mib(measured.heapBytes)}, estimate ${mib(estimate.totalBytes)}`);
    }
  }
  console.log(
    `Training memory on wasm: ${steps} Adam steps (trainOnBatch) per configuration, each in a fresh process; tfjs ${tf.version.tfjs}, node ${process.version}`,
  );
  console.log(
    textTable(
      ["variant", "batch", "input", "heap (measured)", "live tensors peak", "estimate", "estimate vs heap", "peak in"],
      rows,
    ),
  );
  console.log(
    "heap: the wasm memory's size after the steps (it only grows: the peak). estimate: effnet's training-memory estimate (src/cost/training.ts), which `effnet train` and `bench-model` check against the backend's limit. Goal: within ±25 %.",
  );
}
