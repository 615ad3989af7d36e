/**
 * `npm run fuzz -- [--cases N] [--seed S] [--workers W] [--out DIR]`: runs N seeded cases
 * through fuzz/harness.ts, prints a progress line with cases/s and ETA, then the count of
 * each outcome; every distinct failure is minimised and saved as DIR/<outcome>-<n>.effnet
 * with its seed, case number and detail in a leading comment. Exit 1 when anything failed.
 * `npm run fuzz -- FILE...` runs saved reproducers (or any spec) as cases instead.
 *
 * With W workers (default: one per core), worker w runs cases w, w + W, w + 2W, … of the
 * same seeded sequence, so a run is the same N cases whatever W is, and one run of a
 * million cases uses every core. Workers are child processes, not threads: a case is timed
 * in its process's CPU time (fuzz/harness.ts SLOW_MS), which Node 20 can measure only per
 * process, so each worker's cases are timed as a run of its own would time them.
 *
 * `npm run fuzz` gives V8 a 64 MB young generation (`--max-semi-space-size=64`, passed on to
 * the workers): a case allocates megabytes of layers, documents and outputs, and under the
 * default 16 MB most of it is copied out of the young generation again at each scavenge
 * (a quarter of a case's CPU was the garbage collector); 1,500 cases ran in about 0.8× the CPU
 * (0.76× and 0.83× in two interleaved pairs beside other work).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { caseText, FAILURES, minimize, runCase, seedSpecs, type Outcome } from "./harness.ts";

/** What a worker sends: its progress since the last message, and each failure as it finds it. */
type Message =
  | { readonly kind: "ready" }
  | { readonly kind: "progress"; readonly done: number; readonly counts: [Outcome, number][]; readonly slowest: number }
  | {
      readonly kind: "failure";
      readonly index: number;
      readonly outcome: Outcome;
      readonly detail: string;
      readonly text: string;
    };

interface Job {
  readonly seed: number;
  readonly cases: number;
  readonly worker: number;
  readonly workers: number;
}

/** The environment variable that makes this script a worker, holding its Job as JSON. */
const JOB = "EFFNET_FUZZ_JOB";
if (process.env[JOB]) runWorker(JSON.parse(process.env[JOB]) as Job);
else await main();

/** A worker: its share of the cases, reporting counts about once a second and failures at once. */
function runWorker({ seed, cases, worker, workers }: Job): void {
  const seeds = warmUp();
  process.send!({ kind: "ready" } satisfies Message);
  let counts = new Map<Outcome, number>();
  let done = 0;
  let slowest = 0;
  let last = performance.now();
  const flush = (then?: () => void) => {
    process.send!({ kind: "progress", done, counts: [...counts], slowest } satisfies Message, () => then?.());
    counts = new Map();
    done = 0;
  };
  for (let i = worker; i < cases; i += workers) {
    const text = caseText(seed, i, seeds);
    const result = runCase(text);
    counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
    done++;
    slowest = Math.max(slowest, result.ms);
    if (FAILURES.includes(result.outcome))
      process.send!({ kind: "failure", index: i, text, ...result } satisfies Message);
    if (performance.now() - last > 500) {
      last = performance.now();
      flush();
    }
  }
  // Closing the channel once the last message is out lets the worker exit.
  flush(() => process.disconnect());
}

/**
 * Warm-up, untimed: the first run of each phase compiles its code (V8's JIT), which a case
 * early in the run would otherwise be charged for; "slow" is about what a spec costs.
 */
function warmUp(): string[] {
  const seeds = seedSpecs();
  for (const text of seeds) runCase(text);
  return seeds;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      cases: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      workers: { type: "string", default: String(availableParallelism()) },
      out: { type: "string", default: "fuzz-failures" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "Usage: npm run fuzz -- [--cases N] [--seed S] [--workers W] [--out DIR]\n       npm run fuzz -- FILE...   (run saved cases)\n\nW defaults to one worker per core. See fuzz/harness.ts for what a case runs.",
    );
    return;
  }
  if (positionals.length) {
    warmUp();
    let failed = false;
    for (const file of positionals) {
      const result = runCase(readFileSync(file, "utf8"));
      failed ||= FAILURES.includes(result.outcome);
      console.log(
        `${file}: ${result.outcome} in ${result.ms.toFixed(0)} ms of CPU${result.detail ? `: ${result.detail}` : ""}`,
      );
    }
    process.exitCode = failed ? 1 : 0;
    return;
  }
  const [cases, seed, workers] = [values.cases, values.seed, values.workers].map(Number);
  if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed) || !Number.isInteger(workers) || workers < 1) {
    console.error("--cases and --workers take a positive integer and --seed an integer");
    process.exitCode = 2;
    return;
  }

  const counts = new Map<Outcome, number>();
  const saved = new Set<string>();
  let done = 0;
  let slowest = 0;
  // The clock starts when the first worker has warmed up: cases/s and the ETA are about cases.
  let start = Infinity;
  const print = () => {
    const rate = done / ((performance.now() - start) / 1000);
    const eta = (cases - done) / rate;
    process.stderr.write(
      `\r${done}/${cases} cases, ${rate.toFixed(0)} cases/s, ETA ${eta < 60 ? `${eta.toFixed(0)} s` : `${(eta / 60).toFixed(1)} min`}   `,
    );
  };
  const onFailure = (m: Extract<Message, { kind: "failure" }>) => {
    const signature = `${m.outcome}:${m.detail.replace(/\d+/g, "N").slice(0, 120)}`;
    if (saved.has(signature) || saved.size >= 50) return;
    saved.add(signature);
    const small = minimize(m.text, m.outcome);
    mkdirSync(values.out!, { recursive: true });
    const file = join(values.out!, `${m.outcome}-${saved.size}.effnet`);
    writeFileSync(file, `# fuzz seed ${seed} case ${m.index}: ${m.outcome}: ${m.detail}\n${small}\n`);
    process.stderr.write(`\n${m.outcome} (case ${m.index}): ${m.detail}\n  saved ${file}\n`);
  };
  const count = Math.min(workers, cases);
  await Promise.all(
    Array.from(
      { length: count },
      (_, worker) =>
        new Promise<void>((resolve, reject) => {
          // The loader (tsx) and flags this process runs under, so the worker can import the TypeScript harness.
          const job: Job = { seed, cases, worker, workers: count };
          const thread = fork(fileURLToPath(import.meta.url), [], {
            env: { ...process.env, [JOB]: JSON.stringify(job) },
            execArgv: process.execArgv,
          });
          thread.on("message", (m: Message) => {
            if (m.kind === "ready") return void (start = Math.min(start, performance.now()));
            if (m.kind === "failure") return onFailure(m);
            done += m.done;
            for (const [outcome, n] of m.counts) counts.set(outcome, (counts.get(outcome) ?? 0) + n);
            slowest = Math.max(slowest, m.slowest);
            print();
          });
          thread.on("error", reject);
          thread.on("exit", (code) =>
            code ? reject(new Error(`fuzz worker ${worker} exited with ${code}`)) : resolve(),
          );
        }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  console.error("");
  console.log(
    `seed ${seed}: ${cases} cases in ${seconds.toFixed(1)} s (${(cases / seconds).toFixed(0)} cases/s, ${count} worker${count > 1 ? "s" : ""}), slowest ${slowest.toFixed(0)} ms of CPU`,
  );
  for (const outcome of ["ok", "diagnostics", ...FAILURES] as Outcome[])
    console.log(`  ${outcome.padEnd(12)} ${(counts.get(outcome) ?? 0).toLocaleString("en-US")}`);
  const failed = FAILURES.reduce((n, o) => n + (counts.get(o) ?? 0), 0);
  process.exitCode = failed ? 1 : 0;
}
