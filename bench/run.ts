/**
 * `npm run bench [-- NAME...]`: runs each benchmark in bench/ (or the named ones) in its
 * own process, one after another, so that backends and JIT state do not leak between
 * them. Benchmarks print measured numbers; they are not tests and assert nothing.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const all = readdirSync("bench")
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(", ")}; there are: ${all.join(", ")}`);
  process.exit(2);
}
let failed = false;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n=== bench/${name}.ts ===\n`);
  const result = spawnSync(process.execPath, ["--import", "tsx", `bench/${name}.ts`], { stdio: "inherit" });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
