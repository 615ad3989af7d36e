import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { loadedModules } from "./helpers/loaded.ts";

/**
 * The command table loads each command's module only when it runs (src/cli/commands/index.ts),
 * and the built package keeps it so: measured by the modules a command loads, not by its
 * time. Runs bin/effnet.js, i.e. dist/ as `npm run build` (part of `npm test`) left it.
 */
describe("the lazy command table", () => {
  it("each entry loads the definition it names, with the summary --help lists", async () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    for (const entry of COMMANDS) {
      const def = await entry.load();
      expect({ name: def.name, summary: def.summary }).toEqual({ name: entry.name, summary: entry.summary });
    }
  });

  it.skipIf(!existsSync("dist/lib/run.js"))("commands load only the dependencies they use", () => {
    const cases: [string[], string[]][] = [
      [["--help"], []],
      [["--version"], []],
      [["check", "specs/efficientnet.effnet"], ["chevrotain"]],
      // The schema's validator is compiled ahead of time (scripts/build.js), so not even ajv.
      [["audit", "specs/efficientnet.effnet", "--json"], ["chevrotain"]],
      [["compile", "specs/mobilenetv2.effnet", "--check"], ["chevrotain"]],
    ];
    for (const [args, expected] of cases) {
      const loaded = loadedModules(args);
      expect(loaded.status, `effnet ${args.join(" ")}`).toBe(0);
      expect(loaded.heavy, `effnet ${args.join(" ")} loads`).toEqual(expected);
    }
  });
});
