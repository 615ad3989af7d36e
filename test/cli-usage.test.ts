import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { EXIT } from "../src/cli/exit.ts";
import { runCli as run } from "./helpers/cli.ts";

/**
 * Usage errors exit 2 (src/cli/exit.ts), and contradictory or meaningless flag combinations
 * are refused before any work (issue 15, items 7 and 12: `diff FILE V2`, `fmt --write
 * --check`, `--version --bogus` and `help nope` did not exit 2).
 */
const SPEC = "specs/efficientnet.effnet";
const V2 = ["specs/mobilenetv2.effnet", "--variant", "V2"];

const USAGE_ERRORS: readonly (readonly [string, readonly string[], RegExp])[] = [
  ["no command", [], /Usage: effnet COMMAND/],
  ["an unknown command", ["audti", SPEC], /unknown command `audti`; did you mean `audit`\?/],
  ["help for an unknown command", ["help", "nope"], /unknown command `nope`/],
  ["--help for an unknown command", ["--help", "nope"], /unknown command `nope`/],
  ["help with more after the command", ["help", "check", "extra"], /`effnet help check` takes nothing more: extra/],
  ["--version with an option", ["--version", "--bogus"], /--version takes nothing more: --bogus/],
  ["--version with an argument", ["--version", "extra"], /--version takes nothing more: extra/],
  ["an unknown option", ["audit", SPEC, "--jsn"], /unknown option `--jsn`; did you mean `--json`\?/],
  ["a missing argument", ["audit"], /missing FILE argument/],
  ["too many arguments", ["audit", SPEC, SPEC], /too many arguments/],
  ["diff FILE V2 (one variant of one file)", ["diff", SPEC, "B2"], /has 9 variants; name one/],
  ["fmt --write --check", ["fmt", "--write", "--check", SPEC], /--write and --check contradict each other/],
  ["audit --json --width", ["audit", SPEC, "--json", "--width", "80"], /--json and --width contradict/],
  ["audit --json --layers", ["audit", SPEC, "--json", "--layers"], /--json and --layers contradict/],
  ["report --plot without --format svg", ["report", SPEC, "--plot", "growth"], /--plot only applies with --format svg/],
  [
    "report --out-dir --plot",
    ["report", SPEC, "--out-dir", "x", "--plot", "growth"],
    /--out-dir and --plot contradict/,
  ],
  ["report --out-dir --out", ["report", SPEC, "--out-dir", "x", "--out", "y"], /--out-dir writes every format/],
  ["report --out-dir --format", ["report", SPEC, "--out-dir", "x", "--format", "md"], /--out-dir writes every format/],
  ["train --data --synthetic", ["train", ...V2, "--data", "d", "--synthetic"], /give either --data DIR or --synthetic/],
  [
    "train --images with --data",
    ["train", ...V2, "--data", "d", "--images", "3"],
    /--images only applies with --synthetic/,
  ],
  ["train --shapes with --data", ["train", ...V2, "--data", "d", "--shapes", "circle"], /--shapes only applies/],
  [
    "train --freeze-epochs alone",
    ["train", ...V2, "--synthetic", "--freeze-epochs", "2"],
    /only applies with --freeze/,
  ],
  ["train --head-learning-rate alone", ["train", ...V2, "--synthetic", "--head-learning-rate", "1"], /with --freeze/],
  ["train --lr --learning-rate", ["train", ...V2, "--synthetic", "--lr", "1", "--learning-rate", "1"], /not both/],
  ["train --resume --weights", ["train", ...V2, "--resume", "r", "--weights", "w"], /leave out --weights/],
  ["train --dropout 1", ["train", ...V2, "--synthetic", "--dropout", "1"], /--dropout must be a rate in \[0, 1\)/],
  [
    "train --drop-connect without drop connect",
    ["train", ...V2, "--synthetic", "--drop-connect", "0.1"],
    /has no drop connect \(its spec's drop_connect is 0\)/,
  ],
  [
    "bench-model --no-train --batch",
    ["bench-model", SPEC, "--variant", "B0", "--no-train", "--batch", "4"],
    /contradict/,
  ],
  [
    "bench-model --no-train --train-on-cpu",
    ["bench-model", SPEC, "--variant", "B0", "--no-train", "--train-on-cpu"],
    /contradict/,
  ],
  ["predict IMAGE --synthetic", ["predict", "m", "a.png", "--synthetic", "2"], /not both/],
  [
    "eval --data --synthetic",
    ["eval", "m", "--data", "d", "--synthetic", "2"],
    /give either --data DIR or --synthetic N/,
  ],
  ["cam IMAGE --synthetic", ["cam", "m", "a.png", "--synthetic", "2"], /not both/],
];

describe("usage errors exit 2", () => {
  it.each(USAGE_ERRORS)("%s", async (_, argv, message) => {
    const r = await run(...argv);
    expect(r.code, r.stderr).toBe(EXIT.usage);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("the help a user asks for exits 0: help, help COMMAND, help for a two-word command, --version alone", async () => {
    for (const argv of [
      ["help"],
      ["--help"],
      ["help", "check"],
      ["--help", "audit"],
      ["help", "weights", "import"],
      ["help", "weights"],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(" ")).toBe(EXIT.ok);
    }
    expect((await run("help", "audit")).stdout).toContain("Usage: effnet audit FILE");
    expect((await run("--version")).stdout).toMatch(/^effnet \d+\.\d+\.\d+/);
  });

  it("every declared conflict and dependency of every command is refused before any work", async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      const flag = (name: string) => (command.options[name].type === "string" ? [`--${name}`, "1"] : [`--${name}`]);
      const words = entry.name.split(" ");
      for (const [a, b] of command.conflicts ?? []) {
        const r = await run(...words, ...flag(a), ...flag(b), "x");
        expect(r.code, `${entry.name} --${a} --${b}: ${r.stderr}`).toBe(EXIT.usage);
        expect(r.stderr).toContain(`--${a} and --${b} contradict each other`);
      }
      for (const [option, need] of Object.entries(command.needs ?? {})) {
        const r = await run(...words, ...flag(option), "x");
        expect(r.code, `${entry.name} --${option}: ${r.stderr}`).toBe(EXIT.usage);
        expect(r.stderr).toContain(`--${option} only applies with --${need.replace("=", " ")}`);
        for (const name of [option, need.split("=")[0]]) expect(command.options).toHaveProperty(name);
      }
    }
  });
});
