import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoverInterruptedWrites } from "../../src/files/write.ts";

/**
 * "All or none" across a kill -9 (issue 15, item 6: kill -9 during a multi-file write left old
 * and new modules mixed in 10 of 20 runs). A real `effnet compile` of two specs (seven modules
 * in two directories) is killed with SIGKILL at every step of its write, named on stderr by
 * the EFFNET_TEST_PAUSE_AT_WRITE_STEP hook of src/files/write.ts, which sleeps there: after a
 * kill before the commit, what the next run finds (once it has rolled the journal back, as
 * every writer does first) is exactly the old modules; after it, exactly the new ones; never
 * a stray temporary, backup or journal.
 */
const BIN = resolve("bin/effnet.js");
const work = mkdtempSync(join(tmpdir(), "effnet-kill-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SPECS = { tiny: "test/report/golden/tiny.effnet", mobilenetv2: "specs/mobilenetv2.effnet" };
/** MobileNetV2's rows of Tan & Le's Table 3: left out of the copies, so that the write stays seven modules (three of tiny's, MobileNetV2's four widths). */
const TABLE3_ROWS = /^\s*\| (D4|W2|R2|T3_compound) .*\n/gm;
/** The old specs and the new: every module changes (each one's class count is in it). */
function writeSpecs(dir: string, version: "old" | "new"): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(SPECS).map(([name, path]) => {
    const text = readFileSync(path, "utf8").replace(TABLE3_ROWS, "");
    const spec = join(dir, `${name}.effnet`);
    writeFileSync(spec, version === "old" ? text : text.replace(/^(\s*classes )(\d+)/m, "$1 7"));
    return spec;
  });
}
const oldSpecs = writeSpecs(join(work, "old"), "old");
const newSpecs = writeSpecs(join(work, "new"), "new");

/** Every file under `dir` (dot files too), by relative path. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, "utf8");
    }
  };
  walk(dir);
  return files;
}

/**
 * `effnet compile SPECS --out gen` in a child process (the built CLI, bin/effnet.js) run in
 * `cwd` (modules name their --out, so every run uses the same one); with `killAt`, SIGKILLed
 * at that write step.
 */
function compile(
  specs: string[],
  cwd: string,
  killAt?: number,
): Promise<{ code: number | null; signal: string | null; steps: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "compile", ...specs, "--out", "gen"], {
      cwd,
      env: { ...process.env, ...(killAt ? { EFFNET_TEST_PAUSE_AT_WRITE_STEP: String(killAt) } : {}) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (killAt && stderr.includes(`write step ${killAt}:`)) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code, signal, steps: [...stderr.matchAll(/write step \d+: (.*)/g)].map((m) => m[1]) }),
    );
  });
}

let oldFiles: Record<string, string>;
let newFiles: Record<string, string>;
let steps: string[];
beforeAll(async () => {
  for (const version of ["old", "new"]) mkdirSync(join(work, "reference", version), { recursive: true });
  expect((await compile(oldSpecs, join(work, "reference", "old"))).code).toBe(0);
  oldFiles = snapshot(join(work, "reference", "old", "gen"));
  const r = await compile(newSpecs, join(work, "reference", "new"), 1000); // names its steps, pauses at none
  expect(r.code).toBe(0);
  newFiles = snapshot(join(work, "reference", "new", "gen"));
  steps = r.steps;
});

describe("a multi-file write killed with SIGKILL", () => {
  it("the reference write has seven modules in two directories, each changed, and names its steps", () => {
    expect(Object.keys(oldFiles).sort()).toEqual(Object.keys(newFiles).sort());
    expect(Object.keys(oldFiles)).toHaveLength(7);
    for (const path of Object.keys(oldFiles)) expect(newFiles[path], path).not.toBe(oldFiles[path]);
    // 7 staged, the journal, 7 renames, the commit.
    expect(steps).toHaveLength(16);
    expect(steps[7]).toBe("journal written");
    expect(steps[15]).toBe("committed");
  });

  // Every step once, the ones between renames (where a mixture was possible) a second time: 20 runs.
  const killSteps = [...Array.from({ length: 16 }, (_, i) => i + 1), 9, 11, 13, 15];
  it.each(killSteps)("killed at step %i: all old or all new after recovery, nothing stray", async (killAt) => {
    const out = join(work, `run-${killAt}-${Math.random().toString(36).slice(2)}`);
    cpSync(join(work, "reference", "old"), out, { recursive: true });
    const r = await compile(newSpecs, out, killAt);
    expect(r.signal).toBe("SIGKILL");
    const mixed = snapshot(join(out, "gen"));
    if (killAt > 8 && killAt < 16) {
      // Between renames the disk is mixed, and a journal says how to undo it.
      expect(Object.keys(mixed).some((p) => /\.effnet-journal-\d+-\d+\.json$/.test(p))).toBe(true);
      const renamed = Object.keys(newFiles).filter((p) => mixed[p] === newFiles[p]);
      expect(renamed).toHaveLength(killAt - 8);
    }
    for (const dir of Object.keys(SPECS)) recoverInterruptedWrites(join(out, "gen", dir));
    expect(snapshot(join(out, "gen"))).toEqual(killAt < 16 ? oldFiles : newFiles);
  });

  it("the next compile, of one of the two specs only, rolls the other directory back too, then writes", async () => {
    const out = join(work, "next-run");
    cpSync(join(work, "reference", "old"), out, { recursive: true });
    expect((await compile(newSpecs, out, 12)).signal).toBe("SIGKILL"); // tiny's 3 and 1 of MobileNetV2's 4 renamed
    const r = await compile([newSpecs[1]], out);
    expect(r.code).toBe(0);
    const after = snapshot(join(out, "gen"));
    for (const [path, content] of Object.entries(oldFiles))
      expect(after[path], path).toBe(path.startsWith("tiny") ? content : newFiles[path]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(oldFiles).sort());
  });

  it("the next compile of both specs, after a kill between renames, writes every module new", async () => {
    const out = join(work, "rerun");
    cpSync(join(work, "reference", "old"), out, { recursive: true });
    expect((await compile(newSpecs, out, 10)).signal).toBe("SIGKILL");
    expect((await compile(newSpecs, out)).code).toBe(0);
    expect(snapshot(join(out, "gen"))).toEqual(newFiles);
  });
});
