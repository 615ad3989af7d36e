import { basename } from "node:path";
import { audit, costsAreSound, type AuditDocument, type AuditOptions } from "../../report/audit.ts";
import { OPTIMIZERS, type OptimizerName } from "../../report/memory.ts";
import { renderReport, REPORT_FORMATS, reportFiles, type ReportFormat } from "../../report/outputs.ts";
import { applicablePlots, PLOT_NAMES, plotFile } from "../../report/plots.ts";
import {
  checkChoice,
  type CommandDef,
  compileFile,
  EXIT,
  type Invocation,
  type OptionDef,
  UsageError,
  VARIANT_OPTIONS,
  writeOutputs,
} from "../command.ts";

/** `--batch` and `--optimizer`, shared by `report` and `audit`. */
export const MEMORY_OPTIONS: Record<string, OptionDef> = {
  batch: {
    type: "string",
    short: "b",
    multiple: true,
    value: "N",
    description: "batch sizes of the memory estimate (repeat or comma-separate); default 1,32",
  },
  optimizer: {
    type: "string",
    value: "NAME",
    description: `optimizer whose state training memory counts: ${Object.keys(OPTIMIZERS).join(", ")} (default adam)`,
  },
};

export function auditOptions(inv: Invocation): AuditOptions {
  const batches = inv.list("batch").map((b) => {
    const n = Number(b);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--batch expects positive whole numbers, found \`${b}\``);
    return n;
  });
  const optimizer =
    inv.string("optimizer") === undefined
      ? undefined
      : checkChoice("optimizer", inv.string("optimizer")!, Object.keys(OPTIMIZERS) as OptimizerName[]);
  return {
    ...(batches.length ? { batches: [...new Set(batches)].sort((a, b) => a - b) } : {}),
    ...(optimizer ? { optimizer: optimizer as OptimizerName } : {}),
  };
}

export const reportCommand: CommandDef = {
  name: "report",
  summary: "write the audit as JSON (schema-checked), Markdown, single-file HTML with plots, or SVG",
  usage:
    "effnet report FILE [--variant NAME] [--format json|md|html|svg] [--plot NAME] [--out PATH] [--batch N]\n       effnet report FILE... --out-dir DIR",
  details:
    "The same data as `effnet audit`, in files people read: the variant table beside the paper's figures, the compound-scaling audit (implied φ, MACs growth against 2^φ and where the deviation comes from), rounding presets, budgets, memory by batch size, and per variant the stage table (Table 1's shape, every rounded number with its rule) and the layer table. JSON is validated against schema/audit.schema.json before it is written. With --out-dir, every format of each FILE is written as DIR/<network>.{json,md,html} plus DIR/<network>.<plot>.svg, all or nothing.",
  positionals: { min: 1, max: Infinity },
  options: {
    ...VARIANT_OPTIONS,
    format: {
      type: "string",
      short: "f",
      value: "FORMAT",
      description: `${Object.keys(REPORT_FORMATS).join(", ")} (default md)`,
    },
    plot: {
      type: "string",
      value: "NAME",
      description: `with --format svg, which plot: ${PLOT_NAMES.join(", ")} (default ${PLOT_NAMES[0]})`,
    },
    out: { type: "string", short: "o", value: "PATH", description: "write to PATH instead of stdout" },
    "out-dir": { type: "string", value: "DIR", description: "write every format of every FILE into DIR" },
    ...MEMORY_OPTIONS,
  },
  // --out-dir's own refusals of --out and --format stay in run (one message for both).
  conflicts: [["out-dir", "plot"]],
  needs: { plot: "format=svg" },
  examples: [
    "effnet report specs/efficientnet.effnet --format html --out efficientnet.html",
    "effnet report specs/efficientnet.effnet --variant B4 --batch 32 --format md",
    "effnet report specs/efficientnet.effnet --format svg --plot growth --out growth.svg",
    "effnet report specs/*.effnet --out-dir generated/reports",
  ],
  run: async (inv) => {
    const options = auditOptions(inv);
    const outDir = inv.string("out-dir");
    const format = inv.choice("format", Object.keys(REPORT_FORMATS) as ReportFormat[], "md");
    const plot = inv.choice("plot", PLOT_NAMES, PLOT_NAMES[0]);
    if (outDir && (inv.string("out") || inv.string("format")))
      throw new UsageError("--out-dir writes every format; it takes neither --out nor --format");
    if (!outDir && inv.positionals.length > 1) throw new UsageError("several FILEs need --out-dir");

    const docs: AuditDocument[] = [];
    let status: number = EXIT.ok;
    for (const path of inv.positionals) {
      const { compilation } = compileFile(
        path,
        { variants: inv.list("variant"), allowHuge: inv.options["allow-huge"] === true },
        inv.io,
      );
      // Budget overruns (EFF4001) are verdicts on sound numbers: the report shows them, and the exit status says so.
      if (!compilation || !costsAreSound(compilation)) return EXIT.errors;
      if (!compilation.ok) status = EXIT.errors;
      docs.push(audit(compilation, options));
    }

    if (outDir) {
      const names = docs.map((d) => d.network!.name.toLowerCase());
      const clash = names.find((n, i) => names.indexOf(n) !== i);
      if (clash)
        throw new UsageError(`two specs define a network named \`${clash}\`; their reports would overwrite each other`);
      const files = docs.flatMap((d) => reportFiles(d, outDir));
      if (!writeOutputs(files, inv.io)) return EXIT.errors;
      inv.io.err(`wrote ${files.map((f) => basename(f.path)).join(", ")} to ${outDir}\n`);
      return status;
    }

    const doc = docs[0];
    let text: string;
    if (format === "svg") {
      if (!applicablePlots(doc).includes(plot))
        throw new UsageError(
          `the \`${plot}\` plot does not apply to ${doc.source}${plot === "growth" ? " (it needs `scaling compound`)" : ""}`,
        );
      text = plotFile(doc, plot);
    } else text = renderReport(doc, format);
    const out = inv.string("out");
    if (!out) {
      inv.io.out(text);
      return status;
    }
    return writeOutputs([{ path: out, content: text }], inv.io) ? status : EXIT.errors;
  },
};
