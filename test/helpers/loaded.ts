import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Which modules a command of the built package (bin/effnet.js → dist/) loads: a loader
 * hook, which runs in its own thread, appends each loaded module's URL to a file (and a
 * wrapper of Module._load each CommonJS one), and a preload writes the process's CPU time
 * and peak memory at exit. Used by
 * test/package-commands.test.ts (what must not load) and bench/startup.ts (counts).
 */

/** Dependencies whose loading the lazy command table exists to avoid. */
export const HEAVY = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "prettier",
  "ajv",
  "pngjs",
  "jpeg-js",
  "chevrotain",
] as const;

export interface Loaded {
  readonly status: number | null;
  /** URLs of every module loaded (ES modules and CommonJS files; a CommonJS file imported from ESM may appear twice). */
  readonly urls: readonly string[];
  /** The heavy dependencies among them, including the ones bundled into dist/ chunks. */
  readonly heavy: readonly string[];
  readonly usage: { readonly cpuMs: number; readonly maxRssMiB: number };
}

/** Packages bundled into dist/ show up by the chunk that holds them (esbuild's `// node_modules/NAME/` comments). */
function bundledIn(url: string): string[] {
  if (!url.includes("/dist/lib/")) return [];
  const text = readFileSync(new URL(url), "utf8");
  return HEAVY.filter((name) => text.includes(`// node_modules/${name}/`));
}

const owner = (url: string) => url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];

export function loadedModules(args: readonly string[], cwd = process.cwd()): Loaded {
  const dir = mkdtempSync(join(tmpdir(), "effnet-loaded-"));
  try {
    const log = join(dir, "modules.log");
    const usage = join(dir, "usage.json");
    const hook = `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from "node:fs";
export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + "\\n"); return next(url, context); }
`)}`;
    // CommonJS files that other CommonJS files require() never pass the ESM loader: log them from Module._load.
    const preload = `data:text/javascript,${encodeURIComponent(`
import Module, { register } from "node:module";
import { appendFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
register(${JSON.stringify(hook)});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { appendFileSync(${JSON.stringify(log)}, pathToFileURL(Module._resolveFilename(request, parent, isMain)).href + "\\n"); } catch {}
  return load.apply(this, arguments);
};
process.on("exit", () => writeFileSync(${JSON.stringify(usage)}, JSON.stringify(process.resourceUsage())));
`)}`;
    const r = spawnSync(process.execPath, ["--import", preload, "bin/effnet.js", ...args], {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const urls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
    const names = new Set([...urls.map(owner), ...urls.flatMap(bundledIn)]);
    const u = JSON.parse(readFileSync(usage, "utf8")) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
    return {
      status: r.status,
      urls,
      heavy: HEAVY.filter((h) => names.has(h)),
      usage: { cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMiB: u.maxRSS / 1024 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
