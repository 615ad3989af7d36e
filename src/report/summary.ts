import { withCommas } from "../cost/units.ts";
import type { AuditLayer, AuditVariant } from "./audit.ts";
import type { Block, TableColumn } from "./blocks.ts";
import { bytesUnit, countUnit } from "./units.ts";

/**
 * The layer summary, torchinfo-class: the variant's layers grouped stage → block → layer
 * with subtotals at each level, columns chosen by name (`--columns`), and a footer of
 * totals with sizes in MB as torchinfo prints them (torchinfo/model_statistics.py).
 * `depth` is torchinfo's: 0 the footer only, 1 stages, 2 blocks, 3 every layer.
 */
export const SUMMARY_DEPTHS = [0, 1, 2, 3] as const;
export type SummaryDepth = (typeof SUMMARY_DEPTHS)[number];
export const DEFAULT_DEPTH: SummaryDepth = 3;

/** One row of the summary: a stage, a block or a layer, with its totals. */
interface Row {
  readonly level: 0 | 1 | 2;
  readonly name: string;
  readonly className: string;
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShape: readonly number[];
  readonly kernel: string;
  readonly params: { readonly total: number; readonly trainable: number };
  readonly macs: number;
  readonly activationBytes: number;
  readonly inputs: readonly string[];
}

const shape = (s: readonly number[]) => s.join("×");
const percent = (part: number, whole: number) => (whole ? `${((part / whole) * 100).toFixed(1)}` : "0.0");

interface SummaryColumn {
  readonly description: string;
  /** Shown unless --columns picks others. */
  readonly default: boolean;
  readonly render: (rows: readonly Row[], v: AuditVariant) => { column: TableColumn; cells: string[] };
}

const left = (header: string, cells: string[]) => ({ column: { header }, cells });
const right = (header: string, cells: string[]) => ({ column: { header, align: "right" as const }, cells });

/** The one table of summary columns: adding a column is one entry. */
export const SUMMARY_COLUMNS = {
  layer: {
    description: "layer name (Keras's), indented under its block and stage",
    default: true,
    render: (rows) =>
      left(
        "Layer",
        rows.map((r) => "\u00a0\u00a0".repeat(r.level) + r.name),
      ),
  },
  class: {
    description: "Keras class (Conv2D, BatchNormalization, …); the operator for a stage",
    default: true,
    render: (rows) =>
      left(
        "Class",
        rows.map((r) => r.className),
      ),
  },
  input: {
    description: "input shape (H×W×C, batch left out)",
    default: true,
    render: (rows) =>
      left(
        "Input",
        rows.map((r) => r.inputShapes.map(shape).join(", ")),
      ),
  },
  output: {
    description: "output shape (H×W×C, batch left out)",
    default: true,
    render: (rows) =>
      left(
        "Output",
        rows.map((r) => shape(r.outputShape)),
      ),
  },
  kernel: {
    description: "kernel (or pool) size / stride",
    default: true,
    render: (rows) =>
      left(
        "Kernel/stride",
        rows.map((r) => r.kernel),
      ),
  },
  params: {
    description: "parameters, trainable and not",
    default: true,
    render: (rows) =>
      right(
        "Params",
        rows.map((r) => withCommas(r.params.total)),
      ),
  },
  "params-share": {
    description: "share of the variant's parameters, %",
    default: true,
    render: (rows, v) =>
      right(
        "Params %",
        rows.map((r) => percent(r.params.total, v.params.total)),
      ),
  },
  macs: {
    description: "multiply-adds for one image",
    default: true,
    render: (rows) =>
      right(
        "MACs",
        rows.map((r) => withCommas(r.macs)),
      ),
  },
  "macs-share": {
    description: "share of the variant's MACs, %",
    default: true,
    render: (rows, v) =>
      right(
        "MACs %",
        rows.map((r) => percent(r.macs, v.macs)),
      ),
  },
  activations: {
    description: "output (activation) memory at batch 1, float32; a group's is the sum of its layers'",
    default: true,
    render: (rows) => {
      const unit = bytesUnit(rows.map((r) => r.activationBytes));
      return right(
        `Activations (${unit.suffix})`,
        rows.map((r) => unit.show(r.activationBytes)),
      );
    },
  },
  trainable: {
    description: "whether its parameters train: yes, no, partial (BN moving statistics do not), — for none",
    default: false,
    render: (rows) =>
      left(
        "Trainable",
        rows.map((r) =>
          r.params.total === 0
            ? "—"
            : r.params.trainable === r.params.total
              ? "yes"
              : r.params.trainable === 0
                ? "no"
                : "partial",
        ),
      ),
  },
  connected: {
    description: "the layers it consumes (Keras's Connected to)",
    default: false,
    render: (rows) =>
      left(
        "Connected to",
        rows.map((r) => r.inputs.join(", ")),
      ),
  },
} as const satisfies Record<string, SummaryColumn>;

export type SummaryColumnName = keyof typeof SUMMARY_COLUMNS;
export const SUMMARY_COLUMN_NAMES = Object.keys(SUMMARY_COLUMNS) as SummaryColumnName[];
export const DEFAULT_COLUMNS = SUMMARY_COLUMN_NAMES.filter((c) => SUMMARY_COLUMNS[c].default);

export interface SummaryOptions {
  readonly depth?: SummaryDepth;
  readonly columns?: readonly SummaryColumnName[];
}

const kernelText = (l: AuditLayer) => (l.kernel === null ? "" : `${l.kernel}×${l.kernel}/${l.strides}`);

function layerRow(l: AuditLayer, level: 0 | 2): Row {
  return {
    level,
    name: l.name,
    className: l.className,
    inputShapes: l.inputShapes,
    outputShape: l.outputShape,
    kernel: kernelText(l),
    params: l.params,
    macs: l.macs,
    activationBytes: l.activationBytes,
    inputs: l.inputs,
  };
}

function groupRow(level: 0 | 1, name: string, className: string, layers: readonly AuditLayer[]): Row {
  const sum = (f: (l: AuditLayer) => number) => layers.reduce((a, l) => a + f(l), 0);
  return {
    level,
    name,
    className,
    inputShapes: layers[0]?.inputShapes.slice(0, 1) ?? [],
    outputShape: layers[layers.length - 1]?.outputShape ?? [],
    kernel: "",
    params: { total: sum((l) => l.params.total), trainable: sum((l) => l.params.trainable) },
    macs: sum((l) => l.macs),
    activationBytes: sum((l) => l.activationBytes),
    inputs: [],
  };
}

/** The summary's rows at a depth: stages (1), their blocks (2, where a stage has more than one), layers (3). */
function summaryRows(v: AuditVariant, depth: SummaryDepth): Row[] {
  if (depth === 0) return [];
  const byName = new Map(v.layers.map((l) => [l.name, l]));
  const rows: Row[] = v.layers.filter((l) => l.stage === 0).map((l) => layerRow(l, 0));
  for (const s of v.stages) {
    const layers = s.blocks.flatMap((b) => b.layers.map((n) => byName.get(n)!));
    rows.push(groupRow(0, `Stage ${s.stage}`, s.operator, layers));
    for (const b of depth >= 2 ? s.blocks : []) {
      const own = b.layers.map((n) => byName.get(n)!);
      if (s.blocks.length > 1) rows.push(groupRow(1, b.name, "", own));
      if (depth >= 3) rows.push(...own.map((l) => layerRow(l, 2)));
    }
  }
  return rows;
}

/** The summary as report blocks: the table (none at depth 0) and the footer of totals. */
export function summaryBlocks(v: AuditVariant, options: SummaryOptions = {}): Block[] {
  const rows = summaryRows(v, options.depth ?? DEFAULT_DEPTH);
  const rendered = (options.columns ?? DEFAULT_COLUMNS).map((c) =>
    (SUMMARY_COLUMNS[c] as SummaryColumn).render(rows, v),
  );
  const blocks: Block[] = [];
  if (rows.length)
    blocks.push({
      kind: "table",
      columns: rendered.map((r) => r.column),
      rows: rows.map((_, i) => rendered.map((r) => r.cells[i])),
    });
  blocks.push({ kind: "list", items: summaryFooter(v) });
  return blocks;
}

const megabytes = (bytes: number) => (bytes / 1e6).toFixed(2);

/** What the non-trainable parameters are: batch-norm moving statistics, and any stored input statistics (Keras's Normalization). */
function nonTrainableKinds(v: AuditVariant): string {
  const batchNorm = v.layers
    .filter((l) => l.className === "BatchNormalization")
    .reduce((n, l) => n + l.params.nonTrainable, 0);
  const other = v.params.nonTrainable - batchNorm;
  if (other === 0) return "batch-norm moving statistics";
  return `${withCommas(batchNorm)} batch-norm moving statistics, ${withCommas(other)} stored input statistics`;
}

/** torchinfo's footer: counts exact, sizes in MB (10⁶ bytes, as torchinfo prints them), batch 1. */
export function summaryFooter(v: AuditVariant): string[] {
  const s = v.summarySizes;
  const macs = countUnit([v.macs]);
  return [
    `Total params: ${withCommas(v.params.total)}`,
    `Trainable params: ${withCommas(v.params.trainable)}`,
    `Non-trainable params: ${withCommas(v.params.nonTrainable)} (${nonTrainableKinds(v)})`,
    `Total MACs (${macs.suffix || "count"}): ${macs.show(v.macs)}`,
    `Input size (MB): ${megabytes(s.inputBytes)}`,
    `Forward/backward pass size (MB): ${megabytes(s.forwardBackwardBytes)} (outputs of layers with parameters, × 2 for their gradients)`,
    `Params size (MB): ${megabytes(s.paramBytes)}`,
    `Estimated total size (MB): ${megabytes(s.totalBytes)}`,
  ];
}
