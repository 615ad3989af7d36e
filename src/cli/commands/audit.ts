import { audit, costsAreSound, unreadableAudit } from "../../report/audit.ts";
import { renderJson } from "../../report/json.ts";
import {
  DEFAULT_DEPTH,
  SUMMARY_COLUMN_NAMES,
  SUMMARY_DEPTHS,
  type SummaryColumnName,
  type SummaryDepth,
} from "../../report/summary.ts";
import { DEFAULT_WIDTH, MIN_WIDTH, wrap } from "../../report/table.ts";
import { renderAudit } from "../../report/terminal.ts";
import { type CommandDef, compileFile, EXIT, type Invocation, UsageError, VARIANT_OPTIONS } from "../command.ts";
import { auditOptions, MEMORY_OPTIONS } from "./report.ts";

function depthOption(inv: Invocation): SummaryDepth {
  return Number(inv.choice("depth", SUMMARY_DEPTHS.map(String), String(DEFAULT_DEPTH))) as SummaryDepth;
}

function columnsOption(inv: Invocation): SummaryColumnName[] | undefined {
  const names = inv.list("columns");
  if (names.length === 0) return undefined;
  const unknown = names.filter((n) => !SUMMARY_COLUMN_NAMES.includes(n as SummaryColumnName));
  if (unknown.length)
    throw new UsageError(
      `--columns: unknown column${unknown.length === 1 ? "" : "s"} ${unknown.map((u) => `\`${u}\``).join(", ")}; the columns are ${SUMMARY_COLUMN_NAMES.join(", ")}`,
    );
  return names as SummaryColumnName[];
}

const widthOption = (inv: Invocation): number =>
  inv.integer("width", Math.max(MIN_WIDTH, inv.io.columns ?? DEFAULT_WIDTH), MIN_WIDTH);

export const auditCommand: CommandDef = {
  name: "audit",
  summary: "parameters, multiply-adds and memory of every variant, beside the paper's figures",
  usage:
    "effnet audit FILE [--variant NAME] [--stages] [--layers [--depth 0-3] [--columns A,B]] [--all] [--width N] [--batch N] [--json]",
  details: [
    "Scales, lowers and costs each variant. The terminal view is a table of variants and the sections that say something for them (compound scaling and rounding presets are about the whole family: left out with --variant, and presets when no variant's shape differs, unless --all); --stages adds each variant's scaled stage table with the rounding behind every number.",
    `--layers adds a torchinfo-style summary: layers grouped stage → block → layer with subtotals, Keras class names, shapes, kernel/stride, parameters, MACs, activation memory and shares, and a footer of totals with sizes in MB. --depth picks how deep (0 totals only, 1 stages, 2 blocks, 3 layers; default ${DEFAULT_DEPTH}); --columns picks columns from: ${SUMMARY_COLUMN_NAMES.join(", ")}.`,
    `Output fits --width columns (default: the terminal's width, ${DEFAULT_WIDTH} when stdout is not a terminal): prose wraps, tables too wide split into parts that repeat their first column.`,
    "--json prints one JSON document on stdout (diagnostics and the layer hierarchy included), for machines.",
  ]
    // Help is prose too: wrapped to 80 columns, the narrowest terminal it is read in.
    .map((paragraph) => wrap(paragraph, 80).join("\n"))
    .join("\n\n"),
  positionals: { min: 1, max: 1 },
  options: {
    ...VARIANT_OPTIONS,
    json: { type: "boolean", description: "print one JSON document on stdout instead of tables" },
    stages: {
      type: "boolean",
      short: "s",
      description: "show each variant's scaled stage table (on by default with --variant)",
    },
    layers: { type: "boolean", short: "l", description: "show each variant's layer summary (stage → block → layer)" },
    depth: {
      type: "string",
      short: "d",
      value: "N",
      description: `how deep the layer summary goes (implies --layers): 0 totals, 1 stages, 2 blocks, 3 layers (default ${DEFAULT_DEPTH})`,
    },
    columns: {
      type: "string",
      multiple: true,
      value: "A,B",
      description: `the layer summary's columns, in order (implies --layers): ${SUMMARY_COLUMN_NAMES.join(", ")}`,
    },
    all: { type: "boolean", short: "a", description: "show every section, also those about the whole family" },
    width: {
      type: "string",
      short: "w",
      value: "N",
      description: `fit output to N columns (default: the terminal's width, or ${DEFAULT_WIDTH})`,
    },
    ...MEMORY_OPTIONS,
  },
  // The JSON document always holds every section and the whole layer hierarchy: the table options shape text only.
  conflicts: (["stages", "layers", "depth", "columns", "all", "width"] as const).map((o) => ["json", o] as const),
  examples: [
    "effnet audit specs/efficientnet.effnet",
    "effnet audit specs/efficientnet.effnet --variant B0 --layers --depth 2",
    "effnet audit specs/efficientnet.effnet --variant B3 --layers --columns layer,class,output,params,macs --width 80",
    "effnet audit specs/efficientnet.effnet --json | jq '.variants[].macs'",
  ],
  run: async (inv) => {
    const variants = inv.list("variant");
    const json = inv.options.json === true;
    const options = auditOptions(inv);
    const summary = { depth: depthOption(inv), columns: columnsOption(inv) };
    const width = widthOption(inv);
    const { compilation, diagnostics } = compileFile(
      inv.positionals[0],
      { variants, allowHuge: inv.options["allow-huge"] === true },
      inv.io,
    );
    if (!compilation) {
      if (json) inv.io.out(renderJson(unreadableAudit(inv.positionals[0], diagnostics, options)));
      return EXIT.errors;
    }
    const doc = audit(compilation, options);
    // renderJson validates the document against schema/audit.schema.json first.
    if (json) inv.io.out(renderJson(doc));
    else if (costsAreSound(compilation))
      inv.io.out(
        renderAudit(doc, {
          stages: inv.options.stages === true || variants.length > 0,
          // --depth and --columns are about the layer summary, so they ask for it.
          layers: inv.options.layers === true || inv.options.depth !== undefined || inv.options.columns !== undefined,
          memory: options.batches !== undefined,
          all: inv.options.all === true,
          selected: variants.length > 0,
          width,
          summary: { depth: summary.depth, ...(summary.columns ? { columns: summary.columns } : {}) },
        }) + "\n",
      );
    return compilation.ok ? EXIT.ok : EXIT.errors;
  },
};
