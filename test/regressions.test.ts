import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "../src/syntax/parse.ts";
import { print } from "../src/syntax/print.ts";
import { runCli as run } from "./helpers/cli.ts";
import { pngClaiming } from "./helpers/png.ts";

/**
 * Issue 15's twelve failures, each reproduced and now refused or handled. Where another file
 * holds a failure's test it is named here, so the map from the issue to its tests is one place:
 *  1. zero-cost network in report: test/report/extremes.test.ts ("refuses a zero-cost network …");
 *     γ = 1e308: below.
 *  2. degenerate scaling (EFF3002): test/errors/EFF3002-scaled-to-nothing; compile and report: below.
 *  3. a PNG claiming 30000×30000: test/runtime/images.test.ts, test/cli-limits.test.ts (predict, train).
 *  4. the spec path in SVG/Markdown/HTML comments: test/report/extremes.test.ts ("the spec's path …").
 *  5. model directories: test/cli-model-dir.test.ts (paths confined, sizes exact).
 *  6. all or none: test/files.test.ts (rollback, collisions, symlinks, mode), test/cli-model-dir.test.ts
 *     ("saving a model: all or none …"), compile collisions in test/files.test.ts.
 *  7. size guards: 10⁷ layers and /dev/urandom below; /dev/zero and a 100 MB pipe in test/cli-limits.test.ts;
 *     φ = 1e308 with --allow-huge: test/errors/EFF3003-cannot-be-built; a 1 MB line: test/cli-limits.test.ts.
 *  8. α = β = γ = 1: test/report/extremes.test.ts (check, audit, report); solve below.
 *  9. parsing 10⁵ rows: below.
 * 10. fmt: `224 × 224` and a blank line after `{` below; symbolic links and mode: test/files.test.ts.
 * 11. nesting 1,000 deep, a dangling link or loop in a data folder, train --resolution 100000: below;
 *     a manifest entry without `weights`/`paths`: test/cli-model-dir.test.ts.
 * 12. EFF2001's span: test/errors/EFF2001-no-network; "stage NaN": test/errors/EFF2020-stage-out-of-order;
 *     "InfinityT": test/errors/EFF3003-cannot-be-built (∞); tfjs's unknown-layer text:
 *     test/cli-model-dir.test.ts; exit 2 for `diff FILE V2`, `fmt --write --check`, `--version --bogus`,
 *     `help nope`: test/cli-usage.test.ts.
 */
const work = mkdtempSync(join(tmpdir(), "effnet-regressions-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TINY = readFileSync("test/report/golden/tiny.effnet", "utf8");

function spec(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** Exit 1 with `code` on stderr, never an internal error or a stack trace. */
async function expectCoded(argv: string[], code: string) {
  const r = await run(...argv);
  expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(1);
  expect(r.stderr).toContain(`error[${code}]`);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  return r;
}

describe("1. report on valid extremes", () => {
  it("γ = 1e308 is EFF2035 in check, audit, solve and every report format (report once spun until V8 aborted)", async () => {
    const path = spec("gamma.effnet", TINY.replace("gamma 1.15", "gamma 1e308").replace(/^\s*require .*$/m, ""));
    for (const argv of [["check"], ["audit"], ["solve", "--budget", "macs=1G"]])
      await expectCoded([argv[0], path, ...argv.slice(1)], "EFF2035");
    for (const format of ["md", "html", "svg", "json"])
      await expectCoded(["report", path, "--format", format], "EFF2035");
  });
});

describe("2. degenerate networks", () => {
  const degenerate = "test/errors/EFF3002-scaled-to-nothing.effnet";
  it("compile writes nothing and report --format json is EFF3002, not an internal error", async () => {
    const out = join(work, "degenerate-out");
    await expectCoded(["compile", degenerate, "--out", out], "EFF3002");
    expect(existsSync(out)).toBe(false);
    await expectCoded(["report", degenerate, "--format", "json"], "EFF3002");
  });
});

describe("7. the size guard", () => {
  it("a baseline stage of 10⁷ layers is refused before anything is built, with or without --allow-huge", async () => {
    const path = spec(
      "layers.effnet",
      TINY.replace("| 16x16      | 24       | 2      |", "| 16x16      | 24       | 10000000 |"),
    );
    await expectCoded(["check", path], "EFF3004");
    await expectCoded(["audit", path, "--allow-huge"], "EFF3004");
    await expectCoded(["report", path, "--format", "json"], "EFF3004");
  });

  it.skipIf(!existsSync("/dev/urandom"))("check /dev/urandom stops at the spec size limit (EFF0010)", async () => {
    await expectCoded(["check", "/dev/urandom"], "EFF0010");
  });
});

describe("8. α = β = γ = 1", () => {
  it("solve is EFF2035 instead of never returning", async () => {
    const path = spec(
      "ones.effnet",
      TINY.replace("alpha 1.2", "alpha 1")
        .replace("beta 1.1", "beta 1")
        .replace("gamma 1.15", "gamma 1")
        .replace(/^\s*require .*$/m, ""),
    );
    await expectCoded(["solve", path, "--budget", "macs=1G"], "EFF2035");
  });
});

describe("9. parsing is linear in rows", () => {
  // 10⁵ rows took 142 s (a regex over the whole prefix per entry): 50,000 would take ~35 s; linear, a few.
  it("parses and prints 50,000 stage rows", { timeout: 30_000 }, () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `    | ${i + 2} | MBConv6, k3x3 | 8x8 | 16 | 1 |`).join("\n");
    const text = `network X {\n  input 8x8x3\n  classes 10\n  stages {\n    | Stage | Operator | Resolution | Channels | Layers |\n    | 1 | Conv3x3 | 8x8 | 16 | 1 |\n${rows}\n  }\n}\n`;
    const parsed = parse({ path: "rows.effnet", text });
    expect(parsed.diagnostics).toEqual([]);
    expect(print(parsed.document).split("\n").length).toBe(50_009);
  });
});

describe("10. fmt keeps meaning and layout", () => {
  it("an invalid `32 × 32` stays as written (it was printed as the valid `32×32`), and check still refuses it", async () => {
    const path = spec(
      "spaced.effnet",
      TINY.replace("| 32x32      | 16       | 1      |", "| 32 × 32    | 16       | 1      |"),
    );
    const formatted = await run("fmt", path);
    expect(formatted.stdout).toContain("32 × 32");
    await expectCoded(["check", spec("spaced-formatted.effnet", formatted.stdout)], "EFF2027");
  });

  it("a blank line right after `{` is kept", async () => {
    const text =
      "network X {\n\n  input 32x32x3\n  classes 10\n  stages {\n\n    | Operator | Resolution | Channels | Layers |\n    | Conv3x3  | 32x32      | 16       | 1      |\n  }\n}\n";
    expect(print(parse({ path: "x", text }).document)).toBe(text);
  });
});

describe("11. one clear line instead of an internal error", () => {
  it("blocks nested 1,000 deep are EFF1004 in check and fmt (was: Maximum call stack size exceeded)", async () => {
    const path = spec("deep.effnet", `network X {\n${"a {\n".repeat(1000)}${"}\n".repeat(1000)}}\n`);
    await expectCoded(["check", path], "EFF1004");
    await expectCoded(["fmt", path], "EFF1004");
  });

  it.each([
    ["a dangling link", (dir: string) => symlinkSync(join(dir, "nowhere"), join(dir, "c"))],
    [
      "a loop of links",
      (dir: string) => {
        symlinkSync(join(dir, "l2"), join(dir, "l1"));
        symlinkSync(join(dir, "l1"), join(dir, "l2"));
      },
    ],
  ])("%s among a data folder's entries is EFF6004 naming it", async (name, plant) => {
    const data = join(work, `data-${name.replace(/ /g, "-")}`);
    for (const c of ["a", "b"]) {
      mkdirSync(join(data, c), { recursive: true });
      writeFileSync(join(data, c, "x.png"), pngClaiming(2, 2));
    }
    plant(data);
    const out = join(work, `out-${name.replace(/ /g, "-")}`);
    const r = await expectCoded(
      [
        "train",
        "specs/mobilenetv2.effnet",
        "--variant",
        "V2",
        "--data",
        data,
        "--resolution",
        "32",
        "--backend",
        "cpu",
        "--out",
        out,
      ],
      "EFF6004",
    );
    expect(r.stderr).toMatch(
      /cannot read .*(\/c|\/l1) in the data folder: (no such file or directory|a loop of symbolic links)/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("train --resolution 100000 is EFF6003 before the data set is drawn (was: Invalid typed array length)", async () => {
    const out = join(work, "out-huge");
    await expectCoded(
      [
        "train",
        "specs/mobilenetv2.effnet",
        "--variant",
        "V2",
        "--synthetic",
        "--resolution",
        "100000",
        "--backend",
        "cpu",
        "--out",
        out,
      ],
      "EFF6003",
    );
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
