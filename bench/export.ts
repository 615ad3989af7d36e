/**
 * Issue 14's measure: forward latency at batch 1 of a variant's training model (as
 * generated: batch norm, dropout, separate activations) against its inference export
 * (`effnet export --for inference`: batch norm folded, activations merged, dropout gone),
 * in one process, passes interleaved (unfolded, exported, unfolded, …) so that load from
 * other work on the shared machine falls on both alike, as the ratio of medians. Then the
 * per-kernel time of one exported forward pass (tf.profile), to show what dominates after
 * folding, and the weight sizes in each storage type.
 *
 *   npm run bench -- export            (or: node --import tsx bench/export.ts [--runs N])
 *
 * Goal (issue 14): exported ≤ 0.6× unfolded for B0 on wasm. Benchmarks assert nothing.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { compile } from "../src/compile.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { formatMs, textTable, timeForward } from "../src/runtime/bench.ts";
import { exportForInference, loadExported, modelArtifacts } from "../src/runtime/export/inference.ts";
import { WEIGHT_TYPES } from "../src/runtime/export/quantize.ts";
import { importVariantModule } from "../src/runtime/model.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 15;
const GOAL = 0.6;
const CASES = [
  { spec: "specs/efficientnet.effnet", variant: "B0", backends: ["wasm", "cpu"] },
  { spec: "specs/efficientnet.effnet", variant: "B2", backends: ["wasm"] },
] as const;
/** The cpu backend takes seconds per pass: fewer of them. */
const runsOn = (backend: string) => (backend === "cpu" ? Math.min(RUNS, 5) : RUNS);

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

tf.enableProdMode();
const rows: string[][] = [];
const sizes: string[][] = [];
for (const c of CASES) {
  const compilation = compile({ path: c.spec, text: readFileSync(c.spec, "utf8") }, { variants: [c.variant] });
  if (!compilation.ok) throw new Error(`${c.spec} does not compile`);
  const compiled = compilation.variants[0];
  const module = await importVariantModule(compiled, c.spec);
  for (const backendName of c.backends) {
    const backend = await selectBackend(backendName);
    const model = module.buildModel({ seed: 1 });
    const result = await exportForInference(await modelArtifacts(model), { samples: 2 });
    const exported = await loadExported(result);
    const timed = [
      { name: "unfolded", model, runs: [] as number[] },
      { name: "exported", model: exported, runs: [] as number[] },
    ];
    for (const t of timed) await timeForward(t.model, 1, { warmup: 2, runs: 0 });
    const runs = runsOn(backend.name);
    for (let round = 0; round < runs; round++) {
      const order = round % 2 ? [...timed].reverse() : timed;
      for (const t of order) t.runs.push((await timeForward(t.model, 1, { warmup: 0, runs: 1 })).medianMs);
    }
    const [u, e] = timed.map((t) => median(t.runs));
    const ratio = e / u;
    rows.push([
      `${compiled.ir.network} ${c.variant}`,
      `${module.metadata.resolution}`,
      backend.name,
      `${result.layers.before} → ${result.layers.after}`,
      formatMs(u),
      formatMs(e),
      `${ratio.toFixed(2)}×`,
      c.variant === "B0" ? (ratio <= GOAL ? `≤ ${GOAL}× met` : `> ${GOAL}×, not met`) : "",
    ]);
    console.log(rows.at(-1)!.join("  "));
    if (backend.name === "wasm") {
      // What dominates after folding: kernel time of one exported pass, summed by kernel name.
      const x = tf.randomUniform([1, module.metadata.resolution, module.metadata.resolution, 3]);
      const profile = await tf.profile(() => exported.predict(x) as tf.Tensor);
      x.dispose();
      const byKernel = new Map<string, { ms: number; count: number }>();
      for (const k of profile.kernels) {
        const entry = byKernel.get(k.name) ?? { ms: 0, count: 0 };
        entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
        entry.count++;
        byKernel.set(k.name, entry);
      }
      const total = [...byKernel.values()].reduce((n, k) => n + k.ms, 0);
      const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
      console.log(
        `  exported ${c.variant} on wasm, kernel time ${formatMs(total)} in ${profile.kernels.length} kernels: ${top.map(([name, k]) => `${name} ${((100 * k.ms) / total).toFixed(0)}% (${k.count})`).join(", ")}`,
      );
    }
    if (backend.name === "wasm") {
      const bytes: string[] = [];
      for (const type of WEIGHT_TYPES) {
        const r =
          type === "float32"
            ? result
            : await exportForInference(await modelArtifacts(model), { weights: type, samples: 2 });
        bytes.push(`${(r.bytes.weights / 1e6).toFixed(2)} MB`);
      }
      sizes.push([`${compiled.ir.network} ${c.variant}`, ...bytes]);
    }
    model.dispose();
    exported.dispose();
  }
}
console.log("");
console.log(
  `Forward latency at batch 1, median of ${RUNS} interleaved passes (cpu: ${runsOn("cpu")}) after 2 warm-ups; tfjs ${tf.version.tfjs}, Node ${process.version}, wasm single-threaded:`,
);
console.log(
  textTable(["Model", "px", "Backend", "Layers", "Unfolded", "Exported", "Ratio", `Goal (B0 ≤ ${GOAL}×)`], rows),
);
console.log("");
console.log("Weights file (weights.bin) per storage type:");
console.log(textTable(["Model", ...WEIGHT_TYPES], sizes));
