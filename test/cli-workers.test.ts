import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";

/**
 * `effnet train --workers N` (data-parallel training over worker threads,
 * src/runtime/parallel.ts) from the built package (bin/effnet.js → dist/lib/, where the
 * worker is dist/lib/parallel_worker.js) and from the sources (the worker loads through
 * tsx), and a failing worker: one coded line, no Emscripten output, the process ends.
 */

const work = mkdtempSync(join(tmpdir(), "effnet-workers-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const small = ["--synthetic", "--resolution", "32", "--images", "32", "--batch-size", "16", "--epochs", "1"];
const spec = ["specs/efficientnet.effnet", "--variant", "B0"];

/** The built CLI as a user runs it; resolves when the process has ended (a hung worker would time the test out). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/effnet.js", ...args], { env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("effnet train --workers", () => {
  it("trains on two worker threads from the built package, with the progress line", async () => {
    const out = join(work, "built");
    const { code, stderr } = await cli(["train", ...spec, ...small, "--workers", "2", "--out", out]);
    expect(stderr).toContain("workers: 2 threads, 8 images each per step, gradients averaged");
    expect(stderr).toMatch(
      /epoch 1\/1 {2}step 2\/2 {2}loss [\d.]+ {2}accuracy [\d.]+ {2}[\d.]+ images\/s {2}\d+:\d\d elapsed, ETA 0:00/,
    );
    expect(code).toBe(0);
    const training = JSON.parse(readFileSync(join(out, "training.json"), "utf8"));
    expect(training.settings.workers).toBe(2);
  });

  it("a worker that fails is one coded line; the process ends without Emscripten's output", async () => {
    const out = join(work, "fault");
    const { code, stderr } = await cli(["train", ...spec, ...small, "--workers", "2", "--out", out], {
      EFFNET_TEST_WORKER_FAULT: "step",
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^error\[EFF0008\]: training worker [12] of 2 failed: Aborted\(OOM\)\. Build with -sASSERTIONS for more info\.$/m,
    );
    expect(stderr.match(/error\[/g)).toHaveLength(1);
    expect(stderr).not.toContain("wasm-function");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, "model.json"))).toBe(false);
  });

  it("works from the sources too (the worker loads through tsx); --workers takes a whole number or auto", async () => {
    const out = join(work, "sources");
    const run = await runCli("train", ...spec, ...small, "--steps", "1", "--workers", "2", "--out", out);
    expect(run.stderr).toContain("workers: 2 threads");
    expect(run.code).toBe(0);
    for (const bad of ["0", "two", "1.5"]) {
      const usage = await runCli("train", ...spec, ...small, "--workers", bad);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain(`--workers must be a whole number ≥ 1 or auto, not \`${bad}\``);
    }
  });
});
