/**
 * How fast the compiler front and middle run: parse + check + scale + lower + cost of the
 * whole EfficientNet family in-process, warm, and how many φ-derived configurations per
 * second the audit can cost (what `effnet solve` and budget searches lean on).
 *
 *   node --import tsx bench/compiler.ts [--runs N]
 *
 * Times are medians (and 90th percentiles) of N runs after a warm-up of the same work;
 * the spec is read from disk once, outside the timings.
 */
import { readFileSync } from "node:fs";
import { compile } from "../src/compile.ts";
import { cost } from "../src/cost/cost.ts";
import { lower } from "../src/lowering/lower.ts";
import { applyRounding } from "../src/vocabulary/rounding.ts";
import { scale, scaledShape } from "../src/scaling/scale.ts";
import { shapeTotals } from "../src/cost/totals.ts";
import { check } from "../src/semantics/check.ts";
import type { Variant } from "../src/semantics/spec.ts";
import { parse } from "../src/syntax/parse.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 200;
const file = { path: "specs/efficientnet.effnet", text: readFileSync("specs/efficientnet.effnet", "utf8") };

function measure(work: () => void, runs = RUNS): { median: number; p90: number } {
  for (let i = 0; i < Math.max(10, runs / 4); i++) work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)], p90: times[Math.floor(runs * 0.9)] };
}

const ms = (x: number) => `${x.toFixed(3)} ms`;
const parsed = parse(file);
const spec = check(parsed.document).spec!;
const family = spec.variants.length;

const rows: [string, { median: number; p90: number }][] = [
  ["parse", measure(() => parse(file))],
  ["parse + check", measure(() => check(parse(file).document))],
  [
    `scale + lower + cost (${family} variants)`,
    measure(() => spec.variants.forEach((v) => cost(lower(scale(spec, v).network!)))),
  ],
  [`whole pipeline, ${family} variants`, measure(() => compile(file))],
];

console.log(
  `effnet compiler benchmark — ${file.path}, ${family} variants, median of ${RUNS} warm runs (Node ${process.version})`,
);
console.log("");
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${"phase".padEnd(width)}  ${"median".padStart(10)}  ${"p90".padStart(10)}`);
for (const [name, t] of rows)
  console.log(`${name.padEnd(width)}  ${ms(t.median).padStart(10)}  ${ms(t.p90).padStart(10)}`);

// φ-derived configurations per second: scale → lower → cost of a fresh variant each time.
const { alpha, beta, gamma } = spec.scaling.compound!;
const variantAt = (phi: number): Variant => ({
  name: "phi",
  span: spec.nameSpan,
  phi,
  depth: alpha ** phi,
  width: beta ** phi,
  resolution: applyRounding(spec.input.height * gamma ** phi, spec.scaling.resolution.rule),
  dropout: 0.2,
  reported: {},
});
let configurations = 0;
const start = process.hrtime.bigint();
let phi = 0;
while (Number(process.hrtime.bigint() - start) < 2e9) {
  cost(lower(scale(spec, variantAt(phi)).network!));
  phi = (phi + 0.01) % 7; // sweeps B0 … B7-sized networks
  configurations++;
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log("");
console.log(
  `φ-derived configurations costed: ${Math.round(configurations / seconds).toLocaleString("en-US")} per second (φ swept over [0, 7), ${configurations.toLocaleString("en-US")} in ${seconds.toFixed(1)} s)`,
);

// The same sweep through the fast exact cost (src/cost/totals.ts): α^φ, β^φ, rounded γ^φ,
// the rounded stage table (scaledShape) and the operators' closed forms: what `effnet
// search` and `effnet solve` cost per candidate. Five rounds of 2 s; the median is reported
// because the machine is shared.
const fastRates: number[] = [];
let checksum = 0;
for (let round = 0; round < 5; round++) {
  let n = 0;
  let p = 0;
  const t0 = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - t0) < 2e9) {
    for (let k = 0; k < 1000; k++) {
      const resolution = applyRounding(spec.input.height * gamma ** p, spec.scaling.resolution.rule);
      checksum += shapeTotals(spec, scaledShape(spec, beta ** p, alpha ** p, resolution)).macs;
      p = (p + 0.01) % 7;
    }
    n += 1000;
  }
  fastRates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
}
fastRates.sort((a, b) => a - b);
const perSecond = (x: number) => Math.round(x).toLocaleString("en-US");
console.log(
  `fast exact cost (rounded stage table + closed forms, scaling included): ${perSecond(fastRates[2])} configurations per second (median of 5 rounds of 2 s; min ${perSecond(fastRates[0])}, max ${perSecond(fastRates[4])}; goal ≥ 500,000; checksum ${checksum > 0 ? "ok" : "?"})`,
);
const heap = process.memoryUsage().heapUsed / 2 ** 20;
console.log(`heap in use afterwards: ${heap.toFixed(1)} MiB`);
