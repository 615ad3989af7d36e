import { withCommas } from "../../cost/units.ts";
import type { SourceFile } from "../../diagnostics/source.ts";
import { rewriteSpec, withCoefficients } from "../spec-edit.ts";
import {
  rankingTable,
  searchDocument,
  searchHtml,
  searchMarkdown,
  trainedTable,
  type SearchDocument,
} from "../../report/search-document.ts";
import { stringify } from "../../report/json.ts";
import { assertValid } from "../../report/schema.ts";
import { fmt } from "../../vocabulary/rounding.ts";
import { parseBudget, type BudgetLimit } from "../../report/solve.ts";
import {
  axisValues,
  OBJECTIVES,
  DEFAULT_AXIS,
  search,
  type Candidate,
  type GridAxis,
  type Objective,
  type SearchResult,
} from "../../report/search.ts";
import { DEFAULT_WIDTH, MIN_WIDTH, renderTable, wrap } from "../../report/table.ts";
import type { Spec } from "../../semantics/spec.ts";
import { type CommandDef, compileFile, EXIT, type Invocation, NUMBER_RULES, UsageError } from "../command.ts";

/** Past this many candidates within the tolerance, progress with an ETA goes to stderr. */
const PROGRESS_FROM = 50_000;

export const searchCommand: CommandDef = {
  name: "search",
  summary: "grid-search α, β, γ at φ = 1 under α·β²·γ² ≈ 2 (the paper's step 1), ranked by exact cost",
  usage:
    "effnet search FILE [--phi 1] [--grid alpha=1:1.4:0.05,beta=…,gamma=…] [--target 2 --tolerance 0.1] [--budget macs=…] [--rank macs|pareto] [--top 10] [--json | --format md|html] [--train synthetic|DIR [--train-top 3] [--steps 20] [--results FILE]] [--write]",
  details: [
    "Section 3.3, step 1: fix φ = 1 and grid-search α, β, γ with α·β²·γ² ≈ 2 (the spec's `require` line gives the exponents, target and tolerance; --target/--tolerance override). Each candidate's network is scaled with the spec's rounding rules (depth α^φ, width β^φ, resolution γ^φ rounded by the resolution rule) and its parameters and MACs counted exactly by the fast cost (the same figures as `effnet audit`).",
    "What is ranked: the paper ranks by ImageNet accuracy, which cannot be measured here, so the ranking is a declared cost objective, not a claim about accuracy. --rank macs (default): " +
      OBJECTIVES.macs +
      ", i.e. the coefficients whose built network really costs what the constraint promises (rounding makes the built network miss 2^φ by different amounts). --rank pareto: " +
      OBJECTIVES.pareto +
      ". Candidates over a --budget, or that the compiler would refuse (size limits, degenerate stages), are counted and not ranked.",
    "The spec's own α, β, γ are costed too and their place in the ranking printed, on the grid or not. The last lines are the spec's scaling lines with the best candidate's coefficients, to paste back. Default grid: 1:1.4:0.05 on each axis (the paper does not print its grid).",
    "--train synthetic|DIR: the paper ranks its candidates by accuracy; this trains the --train-top best-ranked ones briefly as a proxy (--steps steps of batch --train-batch on the synthetic shapes or a folder of class folders, each at --proxy-resolution × its γ^φ, seeded) and prints their held-out accuracy (a --validation share of the images) beside their cost. Each finished candidate is appended as one JSON line to --results (default NETWORK.search.jsonl): run the same search again after an interruption and the finished ones are read back, not trained again.",
  ].join("\n\n"),
  positionals: { min: 1, max: 1 },
  options: {
    phi: { type: "string", value: "N", description: "the φ candidates are compared at (default 1, the paper's)" },
    grid: {
      type: "string",
      value: "AXIS=FROM:TO:STEP,…",
      description: "axes alpha, beta, gamma (each defaults to 1:1.4:0.05), e.g. alpha=1:1.4:0.05,beta=1:1.2:0.05",
    },
    target: {
      type: "string",
      value: "X",
      description: "the constraint's target (default: the spec's `require`, else 2)",
    },
    tolerance: {
      type: "string",
      value: "T",
      description: "keep candidates with |α·β²·γ² − target| ≤ T (default: the spec's, else 0.1)",
    },
    budget: {
      type: "string",
      multiple: true,
      value: "METRIC=LIMIT",
      description: "rank only candidates within it: macs=1G, flops=2G or params=10M; repeat for several",
    },
    rank: { type: "string", value: "OBJECTIVE", description: "macs (default) or pareto; see above" },
    top: { type: "string", value: "N", description: "rows of the table (default 10)" },
    json: { type: "boolean", description: "every ranked candidate as JSON (schema/search.schema.json)" },
    format: {
      type: "string",
      value: "md|html",
      description: "the report as Markdown, or one HTML page with a plot (accuracy against MACs with --train)",
    },
    train: {
      type: "string",
      value: "synthetic|DIR",
      description: "proxy-train the best candidates on this data (see above)",
    },
    "train-top": { type: "string", value: "K", description: "how many of the ranked candidates to train (default 3)" },
    steps: { type: "string", value: "N", description: "training steps per candidate (default 20)" },
    "train-batch": { type: "string", value: "N", description: "batch size of the proxy training (default 16)" },
    "proxy-resolution": { type: "string", value: "PX", description: "the baseline's proxy resolution (default 32)" },
    images: { type: "string", value: "N", description: "synthetic images in all, train and held out (default 240)" },
    validation: { type: "string", value: "F", description: "held-out share of the images (default 0.25)" },
    seed: { type: "string", value: "N", description: "seed of the data, the weights and the shuffles (default 1)" },
    write: {
      type: "boolean",
      description:
        "write the chosen α, β, γ into the spec's scaling block (the best-ranked, or with --train the most accurate), through the printer",
    },
    results: {
      type: "string",
      value: "FILE",
      description: "the JSON-lines file of finished candidates (default NETWORK.search.jsonl)",
    },
    backend: {
      type: "string",
      value: "NAME",
      description: "the tfjs backend of the proxy training: auto (default), wasm, cpu or tensorflow, as for train",
    },
  },
  conflicts: [["json", "format"]],
  needs: Object.fromEntries(
    ["train-top", "steps", "train-batch", "proxy-resolution", "images", "validation", "seed", "results", "backend"].map(
      (o) => [o, "train"],
    ),
  ),
  examples: [
    "effnet search specs/efficientnet.effnet",
    "effnet search specs/efficientnet.effnet --grid alpha=1:2:0.01,beta=1:1.5:0.01,gamma=1:1.5:0.01 --tolerance 0.05",
    "effnet search specs/efficientnet.effnet --rank pareto --budget params=8M --json",
    "effnet search specs/efficientnet.effnet --train synthetic --train-top 3 --steps 30",
  ],
  run: async (inv) => {
    const phi = inv.number("phi", 1, {
      what: "a φ in (0, 8]",
      ok: (x) => Number.isFinite(x) && x > 0 && x <= 8,
    });
    const grid = parseGrid(inv.string("grid"));
    const rank = inv.choice("rank", Object.keys(OBJECTIVES) as Objective[], "macs");
    const top = inv.integer("top", 10);
    const budgets: BudgetLimit[] = inv.list("budget").map((text) => {
      const b = parseBudget(text);
      if (!b) throw new UsageError(`--budget expects METRIC=LIMIT (e.g. macs=2G), found \`${text}\``);
      return b;
    });

    const proxy = proxySettings(inv);
    const format = inv.string("format") === undefined ? undefined : inv.choice("format", ["md", "html"], "md");
    const { compilation, file } = compileFile(inv.positionals[0], { checkOnly: true }, inv.io);
    if (!compilation?.ok) return EXIT.errors;
    const spec = compilation.spec!;
    const constraint = spec.scaling.compound?.constraint;
    const target = inv.number("target", constraint?.target ?? 2, {
      what: "a target > 1",
      ok: (x) => x > 1 && Number.isFinite(x),
    });
    const tolerance = inv.number("tolerance", constraint?.tolerance ?? 0.1, NUMBER_RULES.nonNegative);

    const started = Date.now();
    let printed = started;
    const result = search(spec, {
      phi,
      grid,
      target,
      tolerance,
      budgets,
      objective: rank,
      onProgress: (done, total) => {
        // Redrawn five times a second on a terminal, a line a second in a log, and the last one.
        const now = Date.now();
        if (total < PROGRESS_FROM || (done < total && now - printed < (inv.io.interactive ? 200 : 1000))) return;
        printed = now;
        const elapsed = (now - started) / 1000;
        const eta = (elapsed / done) * (total - done);
        const line = `search: ${withCommas(done)} of ${withCommas(total)} candidates, ${elapsed.toFixed(1)} s, ETA ${eta.toFixed(1)} s`;
        inv.io.err(inv.io.interactive ? `\r\x1b[2K${line}${done === total ? "\n" : ""}` : `${line}\n`);
      },
    });
    const trained = proxy && (await trainTop(inv, spec, result, proxy));
    if (inv.options.json === true) {
      const json = searchDocument(inv.positionals[0], spec, result, trained || undefined);
      // Checked against schema/search.schema.json before it is printed, as the audit's is.
      assertValid("search", json);
      inv.io.out(stringify(json) + "\n");
      if (inv.options.write === true) writeChosen(inv, file!, result, trained || undefined);
      return EXIT.ok;
    }
    if (format) {
      const doc = searchDocument(inv.positionals[0], spec, result, trained || undefined);
      inv.io.out(format === "md" ? searchMarkdown(doc, top) : searchHtml(doc, top));
      if (inv.options.write === true) writeChosen(inv, file!, result, trained || undefined);
      return EXIT.ok;
    }
    const width = Math.max(MIN_WIDTH, inv.io.columns ?? DEFAULT_WIDTH);
    inv.io.out(
      renderSearch(spec, result, searchDocument(inv.positionals[0], spec, result), top, width, file!.text) + "\n",
    );
    if (trained) inv.io.out("\n" + renderTrained(trained, proxy!, width) + "\n");
    if (inv.options.write === true) writeChosen(inv, file!, result, trained || undefined);
    return EXIT.ok;
  },
};

const AXES = ["alpha", "beta", "gamma"] as const;
/** A grid this large would take minutes even at the fast cost's rate; refuse it as a likely typo. */
const MAX_GRID_POINTS = 50_000_000;

export function parseGrid(text: string | undefined): Record<(typeof AXES)[number], GridAxis> {
  const grid = { alpha: DEFAULT_AXIS, beta: DEFAULT_AXIS, gamma: DEFAULT_AXIS };
  for (const part of (text ?? "").split(",").filter((p) => p.trim() !== "")) {
    const m = /^\s*(alpha|beta|gamma|α|β|γ)\s*=\s*([0-9.]+)\s*:\s*([0-9.]+)\s*:\s*([0-9.]+)\s*$/i.exec(part);
    const axis = m && { from: Number(m[2]), to: Number(m[3]), step: Number(m[4]) };
    if (
      !m ||
      !axis ||
      ![axis.from, axis.to, axis.step].every(Number.isFinite) ||
      !(axis.step > 0) ||
      !(axis.from >= 1) ||
      axis.to < axis.from
    )
      throw new UsageError(
        `--grid expects AXIS=FROM:TO:STEP with AXIS alpha, beta or gamma, 1 ≤ FROM ≤ TO and STEP > 0 (e.g. alpha=1:1.4:0.05), found \`${part.trim()}\``,
      );
    const name = ({ α: "alpha", β: "beta", γ: "gamma" } as Record<string, string>)[m[1]] ?? m[1].toLowerCase();
    grid[name as (typeof AXES)[number]] = axis;
  }
  const points = AXES.reduce((n, a) => n * ((grid[a].to - grid[a].from) / grid[a].step + 1), 1);
  if (points > MAX_GRID_POINTS)
    throw new UsageError(`--grid has ${withCommas(Math.round(points))} points; at most ${withCommas(MAX_GRID_POINTS)}`);
  return grid;
}

const axisText = (a: GridAxis) => `${fmt(a.from)}:${fmt(a.to)}:${fmt(a.step)} (${axisValues(a).length} values)`;

const KEYWORDS = { alpha: "depth", beta: "width", gamma: "resolution" } as const;

/**
 * The spec's own scaling lines with the coefficients in place (its rounding rules and fixed
 * stages kept), ready to paste: `depth alpha 1.2 round ceil …` becomes `depth alpha 1.25
 * round ceil …`; a line without a coefficient (a plain `scaling { … }` block) gets one after
 * its keyword, and a dimension the spec does not write gets a bare `depth alpha X`.
 */
export function pasteLines(text: string, c: Pick<Candidate, "alpha" | "beta" | "gamma">): string[] {
  return AXES.map((axis) => {
    const keyword = KEYWORDS[axis];
    const line = new RegExp(`^[ \\t]*${keyword}\\b[^\\n]*$`, "m").exec(text)?.[0].trim();
    if (line === undefined) return `${keyword} ${axis} ${c[axis]}`;
    return new RegExp(`\\b${axis}[ \\t]+[0-9.]+`).test(line)
      ? line.replace(new RegExp(`(\\b${axis}[ \\t]+)[0-9.]+`), `$1${c[axis]}`)
      : line.replace(keyword, `${keyword} ${axis} ${c[axis]}`);
  });
}

function renderSearch(
  spec: Spec,
  r: SearchResult,
  doc: SearchDocument,
  top: number,
  width: number,
  text: string,
): string {
  const o = r.options;
  const expr = doc.constraint.expression;
  const { columns, rows: table } = rankingTable(doc, top);
  const refused = Object.entries(r.refused).map(([code, n]) => `${n} refused (${code})`);
  const counts = [
    `${withCommas(r.gridPoints)} grid points`,
    `${withCommas(r.withinTolerance)} within ${expr} = ${fmt(o.target)} ± ${fmt(o.tolerance)}`,
    `${withCommas(r.ranked.length)} ranked`,
    ...refused,
    ...(r.overBudget ? [`${withCommas(r.overBudget)} over the budget`] : []),
  ].join(", ");
  const out = [
    ...wrap(
      `${spec.name}: α, β, γ grid search at φ = ${fmt(o.phi)} (Tan & Le 2019, section 3.3, step 1); grid α ${axisText(o.grid.alpha)}, β ${axisText(o.grid.beta)}, γ ${axisText(o.grid.gamma)}`,
      width,
    ),
    ...wrap(`${counts}.`, width),
    ...wrap(
      `Ranked by ${o.objective}: ${OBJECTIVES[o.objective]}. A cost objective: no accuracy is measured. Baseline: ${withCommas(r.baseline.params.total)} parameters, ${withCommas(r.baseline.macs)} MACs.`,
      width,
    ),
    "",
  ];
  if (r.ranked.length === 0) return [...out, "No candidate: widen the grid or the tolerance."].join("\n");
  out.push(renderTable(columns, table, "", width), "");
  const d = r.declared;
  if (d)
    out.push(
      ...wrap(
        `The spec's α = ${fmt(d.alpha)}, β = ${fmt(d.beta)}, γ = ${fmt(d.gamma)} (${expr} = ${d.constraint.toFixed(4)}): rank ${d.rank} of ${r.ranked.length}${r.declaredOnGrid ? "" : " (not a grid point or outside the tolerance: placed where it would sort)"}.`,
        width,
      ),
      "",
    );
  out.push(
    spec.scaling.compound
      ? "Best candidate, to paste into the spec's scaling block:"
      : "Best candidate, as the lines of a `scaling compound { … }` block (the spec has no compound rule yet):",
    ...pasteLines(text, r.ranked[0]).map((l) => `  ${l}`),
  );
  return out.join("\n");
}

interface ProxyRequest {
  readonly settings: import("./search-train.ts").ProxySettings;
  readonly top: number;
  readonly results: string | undefined;
}

/** The --train options, checked before any work (the training module and tfjs load only when they are given). */
function proxySettings(inv: Invocation): ProxyRequest | undefined {
  const data = inv.string("train");
  if (data === undefined) return undefined;
  const whole = (name: string, fallback: number, min = 1) => inv.integer(name, fallback, min);
  return {
    settings: {
      data,
      steps: whole("steps", 20),
      batchSize: whole("train-batch", 16),
      resolution: whole("proxy-resolution", 32, 8),
      images: whole("images", 240, 4),
      validation: inv.number("validation", 0.25, NUMBER_RULES.fraction),
      seed: whole("seed", 1, 0),
      backend: inv.string("backend") ?? "auto",
    },
    top: whole("train-top", 3),
    results: inv.string("results"),
  };
}

async function trainTop(inv: Invocation, spec: Spec, result: SearchResult, proxy: ProxyRequest) {
  const { trainCandidates } = await import("./search-train.ts");
  const path = proxy.results ?? `${spec.name.toLowerCase()}.search.jsonl`;
  return trainCandidates(inv, spec, result.ranked.slice(0, proxy.top), proxy.settings, path);
}

function renderTrained(
  trained: readonly import("./search-train.ts").ProxyResult[],
  proxy: ProxyRequest,
  width: number,
): string {
  const s = proxy.settings;
  const { columns, rows } = trainedTable(trained);
  const table = renderTable(columns, rows, "", width);
  return `${wrap(`Proxy training (${s.steps} steps of batch ${s.batchSize} on ${s.data === "synthetic" ? `${s.images} synthetic shapes` : s.data}, ${Math.round(s.validation * 100)}% held out, seed ${s.seed}): accuracy after a few steps ranks candidates only roughly, as a proxy does.`, width).join("\n")}\n${table}`;
}

/**
 * `--write`: the chosen coefficients into the spec's scaling block. Chosen: with --train the
 * most accurate trained candidate (ties to the better rank), else the best-ranked one.
 */
function writeChosen(
  inv: Invocation,
  file: SourceFile,
  result: SearchResult,
  trained: readonly import("./search-train.ts").ProxyResult[] | undefined,
): void {
  const best = trained?.length
    ? trained.reduce((a, b) => (b.accuracy > a.accuracy ? b : a))
    : (result.ranked[0] as Pick<Candidate, "alpha" | "beta" | "gamma"> | undefined);
  if (!best) throw new UsageError("no candidate was ranked, so there is nothing to --write");
  const c = { alpha: best.alpha, beta: best.beta, gamma: best.gamma };
  rewriteSpec(
    file,
    `α ${fmt(c.alpha)}, β ${fmt(c.beta)}, γ ${fmt(c.gamma)}`,
    (doc) => withCoefficients(doc, c),
    (compiled) => {
      const written = compiled.spec?.scaling.compound;
      return written && written.alpha === c.alpha && written.beta === c.beta && written.gamma === c.gamma
        ? undefined
        : "the edited spec does not declare these coefficients";
    },
    inv.io,
  );
}
