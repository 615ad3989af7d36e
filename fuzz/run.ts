/**
 * `npm run fuzz -- [--cases N] [--seed S] [--out DIR]`: runs N seeded cases through
 * fuzz/harness.ts, prints a progress line with cases/s and ETA, then the count of each
 * outcome; every distinct failure is minimised and saved as DIR/<outcome>-<n>.effnet with
 * its seed, case number and detail in a leading comment. Exit 1 when anything failed.
 * `npm run fuzz -- FILE...` runs saved reproducers (or any spec) as cases instead.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { caseText, FAILURES, minimize, runCase, seedSpecs, type Outcome } from "./harness.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cases: { type: "string", default: "10000" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "fuzz-failures" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(
    "Usage: npm run fuzz -- [--cases N] [--seed S] [--out DIR]\n       npm run fuzz -- FILE...   (run saved cases)\n\nSee fuzz/harness.ts for what a case runs.",
  );
  process.exit(0);
}
const seeds = seedSpecs();
// Warm-up, untimed: the first run of each phase compiles its code (V8's JIT), which a case
// early in the run would otherwise be charged for; "slow" is about what a spec costs.
for (const text of seeds) runCase(text);
if (positionals.length) {
  let failed = false;
  for (const file of positionals) {
    const result = runCase(readFileSync(file, "utf8"));
    failed ||= FAILURES.includes(result.outcome);
    console.log(
      `${file}: ${result.outcome} in ${result.ms.toFixed(0)} ms of CPU${result.detail ? `: ${result.detail}` : ""}`,
    );
  }
  process.exit(failed ? 1 : 0);
}
const cases = Number(values.cases);
const seed = Number(values.seed);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed)) {
  console.error("--cases takes a positive integer and --seed an integer");
  process.exit(2);
}

const counts = new Map<Outcome, number>();
const saved = new Set<string>();
let slowest = 0;
const start = performance.now();
let lastPrint = 0;
for (let i = 0; i < cases; i++) {
  const text = caseText(seed, i, seeds);
  const result = runCase(text);
  counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
  slowest = Math.max(slowest, result.ms);
  if (FAILURES.includes(result.outcome)) {
    const signature = `${result.outcome}:${result.detail.replace(/\d+/g, "N").slice(0, 120)}`;
    if (!saved.has(signature) && saved.size < 50) {
      saved.add(signature);
      const small = minimize(text, result.outcome);
      mkdirSync(values.out!, { recursive: true });
      const file = join(values.out!, `${result.outcome}-${saved.size}.effnet`);
      writeFileSync(file, `# fuzz seed ${seed} case ${i}: ${result.outcome}: ${result.detail}\n${small}\n`);
      process.stderr.write(`\n${result.outcome} (case ${i}): ${result.detail}\n  saved ${file}\n`);
    }
  }
  const now = performance.now();
  if (now - lastPrint > 1000 || i === cases - 1) {
    lastPrint = now;
    const rate = (i + 1) / ((now - start) / 1000);
    const eta = (cases - i - 1) / rate;
    process.stderr.write(
      `\r${i + 1}/${cases} cases, ${rate.toFixed(0)} cases/s, ETA ${eta < 60 ? `${eta.toFixed(0)} s` : `${(eta / 60).toFixed(1)} min`}   `,
    );
  }
}
const seconds = (performance.now() - start) / 1000;
console.error("");
console.log(
  `seed ${seed}: ${cases} cases in ${seconds.toFixed(1)} s (${(cases / seconds).toFixed(0)} cases/s), slowest ${slowest.toFixed(0)} ms of CPU`,
);
for (const outcome of ["ok", "diagnostics", ...FAILURES] as Outcome[])
  console.log(`  ${outcome.padEnd(12)} ${(counts.get(outcome) ?? 0).toLocaleString("en-US")}`);
const failed = FAILURES.reduce((n, o) => n + (counts.get(o) ?? 0), 0);
process.exit(failed ? 1 : 0);
