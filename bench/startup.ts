/**
 * Start-up: each command as a user runs it, a cold process from `node bin/effnet.js`
 * (the compiled package in dist/, `npm run build`), timed wall-clock from spawn to exit.
 *
 *   node --import tsx bench/startup.ts [--runs N]      (npm run bench -- startup)
 *
 * Times are the median (and min–max) of N runs (default 7) after one warm-up run that
 * fills the OS file cache; on a shared machine other processes add noise, hence medians.
 * Beside them, figures that are not timing: the ES modules each command loads (counted by
 * a loader hook in a separate, untimed run), which of the heavy dependencies are among
 * them, and the process's CPU time and peak memory (process.resourceUsage at exit).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedSpecs } from "../src/codegen/generate.ts";

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

/** Dependencies whose loading the lazy command table exists to avoid. */
const HEAVY = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "prettier",
  "ajv",
  "pngjs",
  "jpeg-js",
  "chevrotain",
] as const;

// A loader hook (it runs in its own thread) that appends each loaded module's URL to a
// file, and a preload that writes the process's CPU time and peak memory at exit.
const log = join(out, "modules.log");
const hook = `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from "node:fs";
export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + "\\n"); return next(url, context); }
`)}`;
const usage = join(out, "usage.json");
const preload = `data:text/javascript,${encodeURIComponent(`
import { register } from "node:module";
import { writeFileSync } from "node:fs";
register(${JSON.stringify(hook)});
process.on("exit", () => writeFileSync(${JSON.stringify(usage)}, JSON.stringify(process.resourceUsage())));
`)}`;

function runOnce(args: readonly string[], extra: string[] = []): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...extra, BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !(args[0] === "--help" && r.status === 0)) {
    console.error(`effnet ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    process.exit(1);
  }
  return ms;
}

/** Which module a URL is: an effnet chunk, a package by name, or a Node builtin. */
function owner(url: string): string {
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (pkg) return pkg[1];
  return url.startsWith("node:") ? "node:" : "effnet";
}

/** Packages bundled into dist/ show up by the chunk that holds them (esbuild's `// node_modules/NAME/` comments). */
function bundledIn(url: string): string[] {
  if (!url.includes("/dist/lib/")) return [];
  const text = readFileSync(new URL(url), "utf8");
  return HEAVY.filter((name) => text.includes(`// node_modules/${name}/`));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[][] = [];
for (const c of CASES) {
  runOnce(c.args);
  const times = Array.from({ length: RUNS }, () => runOnce(c.args));
  rmSync(log, { force: true });
  runOnce(c.args, ["--import", preload]);
  const urls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  const loaded = new Set([...urls.map(owner), ...urls.flatMap(bundledIn)]);
  const heavy = HEAVY.filter((h) => loaded.has(h));
  const u = JSON.parse(readFileSync(usage, "utf8")) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
  const m = median(times);
  const shown = c.args.map((a) => (a.startsWith(out) ? "<tmp>" + a.slice(out.length) : a));
  rows.push([
    `effnet ${shown.join(" ").replace(/(specs\/\S+ ?)+/, (s) => (s.trim().split(" ").length > 1 ? "specs/*.effnet " : s))}`,
    m.toFixed(0),
    `${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)}`,
    c.goalMs === undefined ? "" : `≤ ${c.goalMs}`,
    c.goalMs === undefined ? "" : m <= c.goalMs ? "met" : "NOT met",
    String(urls.length),
    heavy.join(", ") || "none",
    ((u.userCPUTime + u.systemCPUTime) / 1000).toFixed(0),
    (u.maxRSS / 1024).toFixed(0),
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
for (const r of rows) console.log(line(r));
console.log("\nCPU ms and peak MiB are from one instrumented run (its loader hook adds a little).");
