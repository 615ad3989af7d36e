import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";

/**
 * `effnet search --train`: the best candidates of a small grid are proxy-trained on the
 * synthetic shapes, each appended to the results file as it finishes; a search killed after
 * its first candidate and run again trains only the rest, and reads the first back.
 */
const SEARCH = [
  "search",
  "test/baselines/tiny-mbconv.effnet",
  "--grid",
  "alpha=1.1:1.3:0.1,beta=1:1.2:0.1,gamma=1:1.3:0.15",
  "--train",
  "synthetic",
  "--train-top",
  "2",
  "--steps",
  "3",
  "--images",
  "40",
  "--backend",
  "wasm",
];
const lines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : []);

describe("search --train", () => {
  it("resumes after an interruption without training a finished candidate again", async () => {
    const results = join(mkdtempSync(join(tmpdir(), "effnet-search-")), "results.jsonl");
    // First run: killed as soon as its first candidate is in the file.
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/run.ts", ...SEARCH, "--results", results], {
      stdio: "ignore",
    });
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (lines(results).length >= 1) {
          clearInterval(poll);
          child.kill("SIGKILL");
          resolve();
        }
      }, 50);
      child.on("exit", () => {
        clearInterval(poll);
        if (lines(results).length >= 1) resolve();
        else reject(new Error("the search exited before finishing a candidate"));
      });
    });
    const first = lines(results);
    expect(first.length).toBeGreaterThanOrEqual(1);

    const again = await runCli(...SEARCH, "--results", results, "--json");
    expect(again.code).toBe(0);
    const after = lines(results);
    expect(after).toHaveLength(2);
    expect(after.slice(0, first.length)).toEqual(first); // kept, not rewritten
    const keys = after.map((l) => (JSON.parse(l) as { key: string }).key);
    expect(new Set(keys).size).toBe(2);
    if (first.length === 1) expect(again.stderr).toContain("1 of 2 candidates already in");
    const trained = (JSON.parse(again.stdout) as { trained: { rank: number; trained: boolean; accuracy: number }[] })
      .trained;
    expect(trained.map((t) => t.rank)).toEqual([1, 2]);
    expect(trained[0].trained).toBe(false);
    for (const t of trained) expect(t.accuracy).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it("its options need --train", async () => {
    const r = await runCli("search", "test/baselines/tiny-mbconv.effnet", "--steps", "3");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--steps.*--train/);
  });
});
