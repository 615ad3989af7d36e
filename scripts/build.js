// `npm run build` (run by `npm ci` and `npm pack` as `prepare`): the package's JavaScript
// and type declarations in dist/, from the TypeScript sources in src/.
//
// JavaScript: esbuild bundles the entry points (the CLI, the library API, the runtime
// and its training worker thread) into dist/lib/, split into chunks so that each command's module, loaded
// lazily by src/cli/commands/index.ts, stays a chunk of its own. The package's
// `dependencies` (and optional peers) stay imports of the installed packages, loaded only
// by the commands that use them; what the sources import from `devDependencies` is
// bundled in. That is chevrotain: loaded as the 700 ES modules it and lodash-es are
// published as, it cost more than the rest of `effnet check` (0.3 s against 0.08 s).
//
// All of dist/lib/ sits two folders below the package root, as every source file does
// (src/<phase>/<file>.ts), so the sources' `new URL("../../package.json", import.meta.url)`
// and the like resolve to the same files from the bundle.
//
// The schemas' validators, compiled ahead of time (src/report/schema.ts, standaloneValidators),
// go beside the bundle: compiling a schema at run time cost more than the rest of
// `effnet audit --json`.
//
// Types: tsc (tsconfig.build.json) writes the declarations to dist/types/, mirroring src/.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})];

rmSync(new URL("dist", root), { recursive: true, force: true });
await build({
  absWorkingDir: new URL(".", root).pathname,
  entryPoints: {
    run: "src/cli/run.ts",
    index: "src/index.ts",
    runtime: "src/runtime/index.ts",
    // Data-parallel training's worker thread (src/runtime/parallel.ts starts it by this name).
    parallel_worker: "src/runtime/parallel_worker.ts",
    "audit-schema": "src/report/schema.ts",
  },
  outdir: "dist/lib",
  chunkNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  logLevel: "warning",
});
const { standaloneValidators } = await import(new URL("dist/lib/audit-schema.js", root).href);
for (const validator of standaloneValidators())
  writeFileSync(new URL(`dist/lib/${validator.fileName}`, root), validator.code);

const tsc = spawnSync(
  process.execPath,
  [new URL("node_modules/typescript/bin/tsc", root).pathname, "-p", "tsconfig.build.json"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
process.exitCode = tsc.status ?? 1;
