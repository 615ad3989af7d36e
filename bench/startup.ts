/**
 * Start-up: each command as a user runs it, a cold process from `node bin/effnet.js`
 * (the compiled package in dist/, `npm run build`), timed wall-clock from spawn to exit.
 *
 *   node --import tsx bench/startup.ts [--runs N]      (npm run bench -- startup)
 *
 * Times are the median (and min–max) of N runs (default 7), taken round-robin after one
 * warm-up run of each that fills the OS file cache; on a shared machine other processes
 * add noise, hence medians, and the bare `node -e ''` row shows how much.
 * Beside them, figures that are not timing: the ES modules each command loads (counted by
 * a loader hook in a separate, untimed run: test/helpers/loaded.ts), which of the heavy
 * dependencies are among them, and that run's CPU time and peak memory.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedSpecs } from "../src/codegen/generate.ts";
import { loadedModules } from "../test/helpers/loaded.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 7;
const BIN = "bin/effnet.js";
if (!existsSync("dist/lib/run.js")) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(1);
}
const out = mkdtempSync(join(tmpdir(), "effnet-startup-"));

interface Case {
  readonly args: readonly string[];
  /** The goal from issue 10, in milliseconds, where there is one. */
  readonly goalMs?: number;
}

const CASES: readonly Case[] = [
  { args: ["--help"], goalMs: 150 },
  { args: ["--version"] },
  { args: ["check", "specs/efficientnet.effnet"], goalMs: 150 },
  { args: ["audit", "specs/efficientnet.effnet"] },
  { args: ["audit", "specs/efficientnet.effnet", "--json"], goalMs: 300 },
  { args: ["compile", ...shippedSpecs("."), "--out", join(out, "models")], goalMs: 1000 },
  { args: ["compile", ...shippedSpecs("."), "--emit", "js", "--out", join(out, "js")] },
];

function runOnce(args: readonly string[], command: readonly string[] = [BIN]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...command, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) {
    console.error(`effnet ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    process.exit(1);
  }
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
// The floor under every figure: Node starting and exiting with nothing to do. On a shared
// machine it shows how much of the noise is the machine's, not effnet's.
const bare: number[] = [];
// Round-robin, one run of each command per round, so that a busy spell of the machine
// falls on all of them alike rather than on whichever command was being timed.
for (const c of CASES) runOnce(c.args);
const times = CASES.map((): number[] => []);
for (let round = 0; round < RUNS; round++) {
  bare.push(runOnce([], ["-e", ""]));
  CASES.forEach((c, i) => times[i].push(runOnce(c.args)));
}
const rows: string[][] = [];
for (const [i, c] of CASES.entries()) {
  const loaded = loadedModules(c.args);
  const m = median(times[i]);
  const shown = c.args.map((a) => (a.startsWith(out) ? "<tmp>" + a.slice(out.length) : a));
  rows.push([
    `effnet ${shown.join(" ").replace(/(specs\/\S+ ?)+/, (s) => (s.trim().split(" ").length > 1 ? "specs/*.effnet " : s))}`,
    m.toFixed(0),
    range(times[i]),
    c.goalMs === undefined ? "" : `≤ ${c.goalMs}`,
    c.goalMs === undefined ? "" : m <= c.goalMs ? "met" : "NOT met",
    String(loaded.urls.length),
    loaded.heavy.join(", ") || "none",
    loaded.usage.cpuMs.toFixed(0),
    loaded.usage.maxRssMiB.toFixed(0),
  ]);
}
rmSync(out, { recursive: true, force: true });

const header = [
  "command",
  "median ms",
  "min–max",
  "goal ms",
  "",
  "modules",
  "heavy modules loaded",
  "CPU ms",
  "peak MiB",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: readonly string[]) =>
  r.map((cell, i) => (i === 0 || i === 6 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
console.log(`Cold start, ${RUNS} runs each (median, min–max), Node ${process.version}:\n`);
console.log(line(header));
console.log(widths.map((w) => "─".repeat(w)).join("  "));
console.log(line(["node -e '' (no effnet: the floor)", median(bare).toFixed(0), range(bare), "", "", "", "", "", ""]));
for (const r of rows) console.log(line(r));
console.log("\nCPU ms and peak MiB are from the instrumented run (its loader hook adds a little).");
