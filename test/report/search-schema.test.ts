import { describe, expect, it } from "vitest";
import { schemaErrors } from "../../src/report/schema.ts";
import { runCli } from "../helpers/cli.ts";

/** `effnet search --json` is checked against schema/search.schema.json before it is printed. */
const SMALL_GRID = ["--grid", "alpha=1.1:1.3:0.1,beta=1:1.2:0.1,gamma=1:1.3:0.15"];

describe("search --json schema", () => {
  it.each([
    ["the paper's grid", ["specs/efficientnet.effnet", "--budget", "params=8M"]],
    ["pareto ranking", ["test/baselines/tiny-mbconv.effnet", ...SMALL_GRID, "--rank", "pareto"]],
    ["a spec without a compound rule", ["specs/mobilenetv2.effnet", ...SMALL_GRID]],
  ])("%s: the printed document is valid", async (_, args) => {
    const r = await runCli("search", ...args, "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(schemaErrors("search", JSON.parse(r.stdout))).toEqual([]);
  });

  it("refuses documents that break it", async () => {
    const r = await runCli("search", "test/baselines/tiny-mbconv.effnet", ...SMALL_GRID, "--json");
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    const mutations: [string, (d: Record<string, any>) => void][] = [
      ["an unknown field", (d) => (d.extra = 1)],
      ["a negative count", (d) => (d.gridPoints = -1)],
      ["a candidate without its MACs", (d) => delete d.ranked[0].macs],
      ["a NaN ratio (null in JSON)", (d) => (d.ranked[0].macsRatio = null)],
      ["an unknown objective", (d) => (d.objective.name = "accuracy")],
    ];
    for (const [what, mutate] of mutations) {
      const broken = structuredClone(doc);
      mutate(broken);
      expect(schemaErrors("search", broken).length, what).toBeGreaterThan(0);
    }
  });
});
