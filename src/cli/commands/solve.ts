import { BUDGET_METRICS } from "../../vocabulary/budgets.ts";
import { rewriteSpec, withPhiVariant } from "../spec-edit.ts";
import { formatCount, withCommas } from "../../cost/units.ts";
import { fmt } from "../../vocabulary/rounding.ts";
import { auditVariant } from "../../report/audit.ts";
import {
  DEFAULT_PRECISION,
  describeBudgets,
  metricValue,
  parseBudget,
  parseLatencyBudget,
  solve,
  type BudgetLimit,
  type Solution,
} from "../../report/solve.ts";
import { renderStages } from "../../report/terminal.ts";
import { type CommandDef, compileFile, EXIT, type Invocation, reportDiagnostics, UsageError } from "../command.ts";
import { diagnostic } from "../../diagnostics/diagnostic.ts";
import type { SourceFile } from "../../diagnostics/source.ts";

export const solveCommand: CommandDef = {
  name: "solve",
  summary: "find the largest φ whose compound-scaled, rounded network fits a budget",
  usage: "effnet solve FILE --budget macs=2G [--budget params=10M] [--precision 0.01] [--name NAME] [--json] [--write]",
  details:
    "Builds the network the spec's α, β, γ and rounding rules give at φ = 0, p, 2p, … (p = --precision) and returns the last φ before the first one over any budget: that φ fits, φ + p does not. The cost is a step function of φ (every coefficient is rounded), which is why the answer is defined on a grid. A budget below the baseline searches φ < 0 (0, −p, −2p, …: the first that fits, down to φ = −40). The last line printed is a `variant NAME phi X` line to paste into the spec's body. Without --budget, the spec's own `budget` lines that apply to every variant are used.",
  positionals: { min: 1, max: 1 },
  options: {
    budget: {
      type: "string",
      multiple: true,
      value: "METRIC=LIMIT",
      description: "macs=2G, flops=4G or params=10M (units K, M, G, B, T); repeat for several",
    },
    precision: {
      type: "string",
      short: "p",
      value: "STEP",
      description: `grid step of φ (default ${DEFAULT_PRECISION})`,
    },
    name: { type: "string", value: "NAME", description: "the variant's name in the line to paste (default Solved)" },
    json: { type: "boolean", description: "print the result as JSON" },
    write: { type: "boolean", description: "append the `variant NAME phi X` line to the spec, through the printer" },
    backend: {
      type: "string",
      value: "NAME",
      description: "with a latency budget: where it is measured, wasm (default), cpu or tensorflow, as for bench-model",
    },
    runs: { type: "string", value: "N", description: "with a latency budget: timed forward passes per φ (default 5)" },
  },
  conflicts: [["json", "backend"]],
  needs: { backend: "budget", runs: "budget" },
  examples: [
    "effnet solve specs/efficientnet.effnet --budget macs=2G",
    "effnet solve specs/efficientnet.effnet --budget macs=10G --budget params=20M --precision 0.001",
    "effnet solve specs/efficientnet.effnet --budget macs=200M --name Half   # below B0: a negative φ",
    "effnet solve specs/efficientnet.effnet --budget latency=50ms --backend wasm   # measured, batch 1",
  ],
  run: async (inv) => {
    const latencies = inv.list("budget").flatMap((text) => {
      const ms = parseLatencyBudget(text);
      return ms === undefined ? [] : [ms];
    });
    if (latencies.length > 1) throw new UsageError("give at most one latency budget");
    const budgets: BudgetLimit[] = inv.list("budget").flatMap((text) => {
      if (parseLatencyBudget(text) !== undefined) return [];
      const b = parseBudget(text);
      if (!b)
        throw new UsageError(
          `--budget expects METRIC=LIMIT with METRIC macs, flops or params (e.g. macs=2G), or latency=50ms, found \`${text}\``,
        );
      return [b];
    });
    if (latencies.length === 0 && (inv.options.backend !== undefined || inv.options.runs !== undefined))
      throw new UsageError("--backend and --runs are for a latency budget (--budget latency=50ms)");
    const precisionText = inv.string("precision");
    const precision = precisionText === undefined ? DEFAULT_PRECISION : Number(precisionText);
    if (!(precision > 0 && precision <= 1))
      throw new UsageError(`--precision expects a step in (0, 1], found \`${precisionText}\``);

    const { compilation, file } = compileFile(inv.positionals[0], { checkOnly: true }, inv.io);
    if (!compilation?.ok) return EXIT.errors;
    const spec = compilation.spec!;
    if (budgets.length === 0)
      budgets.push(
        ...spec.budgets.filter((b) => b.variant === undefined).map((b) => ({ metric: b.metric, limit: b.limit })),
      );
    if (budgets.length === 0 && latencies.length === 0)
      throw new UsageError("no budget: pass --budget macs=2G (or give the spec a `budget` line for every variant)");

    const name = inv.string("name") ?? "Solved";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new UsageError(`--name expects a variant name (letters, digits, _), found \`${name}\``);
    if (latencies.length) {
      if (inv.options.json === true)
        throw new UsageError("--json is for cost budgets; a latency budget prints its measurements");
      if (!spec.scaling.compound) {
        reportDiagnostics([diagnostic("EFF0004", { network: spec.name })], compilation.file, inv.io, false);
        return EXIT.errors;
      }
      const runs = inv.integer("runs", 5);
      const { solveLatency, renderLatencySolution } = await import("./solve-latency.ts");
      const found = await solveLatency(inv, spec, latencies[0], budgets, {
        precision,
        name,
        runs,
        backend: inv.string("backend") ?? "wasm",
      });
      if (!found) return EXIT.errors;
      inv.io.out(renderLatencySolution(spec.name, latencies[0], budgets, precision, found));
      if (inv.options.write === true) writeVariant(inv, file!, name, found.phi, found.line);
      return EXIT.ok;
    }
    const { solution, diagnostics } = solve(spec, budgets, precision, name);
    if (!solution) {
      reportDiagnostics(diagnostics, compilation.file, inv.io, false);
      return EXIT.errors;
    }
    inv.io.out(
      inv.options.json === true
        ? JSON.stringify(solutionJson(inv.positionals[0], spec.name, solution), null, 2) + "\n"
        : renderSolution(spec.name, solution) + "\n",
    );
    if (inv.options.write === true) writeVariant(inv, file!, name, solution.best.phi, solution.line);
    return EXIT.ok;
  },
};

function point(p: Solution["best"], budgets: readonly BudgetLimit[]) {
  return {
    phi: p.phi,
    width: p.coefficients.width,
    depth: p.coefficients.depth,
    resolution: p.coefficients.resolution,
    params: p.cost.params,
    macs: p.cost.macs,
    flops: p.cost.flops,
    over: [...p.over],
    budgetUse: budgets.map((b) => ({ metric: b.metric, limit: b.limit, value: metricValue(b.metric, p.cost) })),
  };
}

function solutionJson(source: string, network: string, s: Solution) {
  return {
    source,
    network,
    budgets: s.budgets,
    precision: s.precision,
    definition: "the largest φ = k·precision such that every grid point from 0 to φ fits; φ + precision does not",
    best: point(s.best, s.budgets),
    next: point(s.next, s.budgets),
    gridPoints: s.gridPoints,
    networksBuilt: s.networksBuilt,
    line: s.line,
  };
}

function renderSolution(network: string, s: Solution): string {
  const { best, next } = s;
  const c = best.coefficients;
  const use = (p: Solution["best"]) =>
    s.budgets
      .map(
        (b) =>
          `${formatCount(metricValue(b.metric, p.cost))} ${BUDGET_METRICS[b.metric].name} (${((metricValue(b.metric, p.cost) / b.limit) * 100).toFixed(1)}% of ${formatCount(b.limit)})`,
      )
      .join(", ");
  return [
    `${network} within ${describeBudgets(s.budgets)}: φ = ${fmt(best.phi)} (grid step ${fmt(s.precision)}, scanned ${best.phi < 0 ? "downward" : "upward"} from 0: ${s.gridPoints} points)`,
    `  coefficients: depth ${fmt(c.depth)}, width ${fmt(c.width)}, resolution ${c.resolution}`,
    `  cost: ${withCommas(best.cost.params.total)} parameters (${withCommas(best.cost.params.trainable)} trainable), ${withCommas(best.cost.macs)} MACs = ${formatCount(best.cost.flops)} FLOPs`,
    `  fits: ${use(best)}`,
    `  φ = ${fmt(next.phi)} does not: ${use(next)}`,
    "",
    renderStages(auditVariant(s.network)),
    "",
    "Paste into the spec's body:",
    `  ${s.line}`,
  ].join("\n");
}

/** `--write`: the `variant NAME phi X` line appended to the spec, through the printer. */
function writeVariant(inv: Invocation, file: SourceFile, name: string, phi: number, line: string): void {
  rewriteSpec(
    file,
    line,
    (doc) => withPhiVariant(doc, name, phi),
    (compiled) =>
      compiled.variants.some((v) => v.variant.name === name && v.variant.phi === phi)
        ? undefined
        : `the edited spec has no variant ${name} at φ = ${phi}`,
    inv.io,
  );
}
