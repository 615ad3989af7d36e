import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { pasteLines } from "../../src/cli/commands/search.ts";
import { search, type SearchOptions } from "../../src/report/search.ts";
import { runCli as run } from "../helpers/cli.ts";
import { compilePath } from "./helpers.ts";

/**
 * `effnet search`: the grid, the constraint filter, the ranking by the declared objective
 * (checked against networks the language itself builds), the spec's coefficients located,
 * and the lines it prints to paste back.
 */
const path = "specs/efficientnet.effnet";
const text = readFileSync(path, "utf8");
const spec = compilePath(path).spec!;
const axis = { from: 1, to: 1.4, step: 0.05 };
const options: SearchOptions = {
  phi: 1,
  grid: { alpha: axis, beta: axis, gamma: axis },
  target: 2,
  tolerance: 0.1,
  budgets: [],
  objective: "macs",
};

/** The spec with the candidate's coefficients pasted in and a φ = 1 variant, compiled through the whole pipeline. */
function built(c: { alpha: number; beta: number; gamma: number }) {
  let pasted = text;
  for (const line of pasteLines(text, c)) {
    const keyword = line.split(/\s+/)[0];
    pasted = pasted.replace(new RegExp(`^[ \\t]*${keyword}[ \\t]+(alpha|beta|gamma)[ \\t].*$`, "m"), `    ${line}`);
  }
  pasted = pasted.replace(/\}\s*$/, "  variant Probe phi 1\n}\n");
  const compilation = compilePath(path, pasted, { variants: ["Probe"] });
  return compilation;
}

describe("effnet search", () => {
  const result = search(spec, options);

  it("keeps exactly the grid points within the constraint's tolerance, ranked by the objective", () => {
    expect(result.gridPoints).toBe(9 ** 3);
    const kept = result.ranked.every((c) => Math.abs(c.alpha * c.beta ** 2 * c.gamma ** 2 - 2) <= 0.1 + 1e-12);
    expect(kept).toBe(true);
    expect(result.ranked.length).toBe(result.withinTolerance);
    for (let i = 1; i < result.ranked.length; i++)
      expect(result.ranked[i].deviation).toBeGreaterThanOrEqual(result.ranked[i - 1].deviation);
  });

  it("each ranked figure is the network the language builds from the pasted lines at φ = 1", () => {
    for (const c of [result.ranked[0], result.ranked[result.ranked.length - 1], result.declared!]) {
      const compilation = built(c);
      expect(compilation.ok).toBe(true);
      expect(compilation.spec!.scaling.compound).toMatchObject({ alpha: c.alpha, beta: c.beta, gamma: c.gamma });
      expect(compilation.variants[0].cost.macs).toBe(c.cost.macs);
      expect(compilation.variants[0].cost.params).toEqual(c.cost.params);
      expect(c.macsRatio).toBe(c.cost.macs / result.baseline.macs);
    }
  });

  it("locates the paper's α = 1.2, β = 1.1, γ = 1.15 in the ranking", () => {
    expect(result.declaredOnGrid).toBe(true);
    expect(result.declared).toMatchObject({ alpha: 1.2, beta: 1.1, gamma: 1.15 });
    expect(result.ranked[result.declared!.rank - 1]).toBe(result.declared);
  });

  it("pareto: no candidate of layer 1 is dominated, every later one is dominated by its previous layer", () => {
    const pareto = search(spec, { ...options, objective: "pareto" });
    const dominated = (c: (typeof pareto.ranked)[number], by: typeof pareto.ranked) =>
      by.some(
        (d) =>
          d.cost.params.total <= c.cost.params.total &&
          d.cost.macs <= c.cost.macs &&
          (d.cost.params.total < c.cost.params.total || d.cost.macs < c.cost.macs),
      );
    for (const c of pareto.ranked) {
      expect(
        dominated(
          c,
          pareto.ranked.filter((d) => d.layer === c.layer),
        ),
      ).toBe(false);
      if (c.layer > 1)
        expect(
          dominated(
            c,
            pareto.ranked.filter((d) => d.layer === c.layer - 1),
          ),
        ).toBe(true);
    }
  });

  it("budgets leave out the candidates over them", () => {
    const limited = search(spec, { ...options, budgets: [{ metric: "params", limit: 7e6 }] });
    expect(limited.ranked.every((c) => c.cost.params.total <= 7e6)).toBe(true);
    expect(limited.ranked.length + limited.overBudget).toBe(result.ranked.length);
  });

  it("CLI: a table with the spec's coefficients, lines to paste, --json, and usage errors", async () => {
    const plain = await run("search", path, "--grid", "alpha=1.1:1.3:0.1,beta=1:1.2:0.05", "--top", "3");
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("← the spec's");
    expect(plain.stdout).toContain("The spec's α = 1.2, β = 1.1, γ = 1.15");
    expect(plain.stdout).toMatch(
      /to paste into the spec's scaling block:\n {2}depth alpha [0-9.]+ round ceil fixed stages 1, 9/,
    );
    const json = JSON.parse((await run("search", path, "--json", "--rank", "pareto")).stdout);
    expect(json.objective.name).toBe("pareto");
    expect(json.ranked.length).toBe(json.withinTolerance);
    expect(json.declared).toMatchObject({ alpha: 1.2, beta: 1.1, gamma: 1.15, onGrid: true });
    for (const bad of [
      ["--grid", "alpha=2:1:0.1"],
      ["--grid", "delta=1:2:0.1"],
      ["--rank", "accuracy"],
      ["--phi", "-1"],
    ])
      expect((await run("search", path, ...bad)).code).toBe(2);
  });
});
