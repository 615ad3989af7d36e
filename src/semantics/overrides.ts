import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { joinSpans } from "../diagnostics/source.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import type { Cell, Entry } from "../syntax/ast.ts";
import { scalingPlan, type StagePlan } from "./scaling.ts";
import type { Scaling, Spec, Variant } from "./spec.ts";
import {
  cellText,
  isNotApplicable,
  splitAtCommas,
  STAGE_COLUMNS,
  stagesFromRows,
  type NetworkDefaults,
} from "./stages.ts";
import { readTable, type ColumnDef, type TableRow } from "./tables.ts";
import { isPlainNumber, numberValue } from "./values.ts";

/**
 * Per-variant stage overrides: a variant whose stage table differs from the spec's in more
 * than scaling (ResNet-18's BasicBlocks and [2, 2, 2, 2] layers where the table holds
 * ResNet-50's Bottlenecks and [3, 4, 6, 3]; EfficientNetV2-M's channels and layers, and a
 * stage V2-S leaves out). One row names a variant, the stages it sets and, in the stage
 * table's own columns, their values:
 *
 *   overrides {
 *     | Variant | Stages     | Operator         | Channels          | Layers     |
 *     | R18     | 3, 4, 5, 6 | BasicBlock, k3x3 | 64, 128, 256, 512 | 2          |
 *     | R101    | 3, 4, 5, 6 | -                | -                 | 3, 4, 23, 3 |
 *   }
 *
 * A cell holds one value per listed stage or one for all of them (an Operator cell is one
 * operator, its commas are the operator's modifiers); `-` leaves the column as the stage
 * table has it. The variant's stage table (the spec's rows with these cells laid over them)
 * is checked by the same rules as the spec's (src/semantics/stages.ts), so every stage-table
 * diagnostic applies and points at the override's cell. An override is the number the
 * variant builds: a variant that also scales that dimension of that stage is ambiguous (EFF2048).
 */

/** Why a stage-table column cannot be set per variant (EFF2010 in the overrides table, with this as its help). */
const PER_NETWORK: Readonly<Record<string, string>> = {
  Resolution:
    "a variant's input resolution is its Resolution in the variants table; every stage's follows from the strides",
  Stride: "strides follow from the stage table's resolutions, the same for every variant",
};

/** The overrides table's columns: which variant, which stages, then the stage table's columns a variant may set. */
export const OVERRIDE_COLUMNS: readonly ColumnDef[] = [
  { name: "Variant", aliases: ["name", "model"], required: true },
  { name: "Stages", aliases: ["stage", "stage i", "i"], required: true },
  ...STAGE_COLUMNS.filter((c) => c.name !== "Stage").map((c) => ({
    ...c,
    required: false,
    ...(PER_NETWORK[c.name] ? { refused: PER_NETWORK[c.name] } : {}),
  })),
];

/** Columns whose cell is one value for every listed stage, whatever its commas say. */
const SINGLE_VALUE = new Set(["Operator"]);

/** What scaling does to an overridden column, for EFF2048: the variant's coefficient and whether the stage's plan scales it. */
const SCALED_BY: Readonly<
  Record<
    string,
    {
      readonly dimension: "depth" | "width";
      readonly scales: (plan: StagePlan) => boolean;
    }
  >
> = {
  Layers: { dimension: "depth", scales: (p) => p.layers === "scaled" },
  Channels: { dimension: "width", scales: (p) => p.channels === "scaled" || p.channels === "head" },
  // scale(): the Expanded width always scales with the width coefficient.
  Expanded: { dimension: "width", scales: () => true },
};

/** Per variant, per stage position, per column: the cell that replaces the stage table's. */
type Assignments = Map<string, Map<number, Map<string, Cell>>>;

/** `64, 128, 256` → three cells, each with its own span (for diagnostics at the value). */
function splitList(cell: Cell): Cell[] {
  return splitAtCommas(cell.atoms).map((atoms) => ({
    atoms,
    span: atoms.length ? joinSpans(atoms[0].span, atoms[atoms.length - 1].span) : cell.span,
  }));
}

/** The Stages cell: stage numbers separated by commas, each a row of the stage table. */
function readStageList(cell: Cell, rowCount: number, diagnostics: Diagnostic[]): number[] | undefined {
  const stages: number[] = [];
  for (const part of splitList(cell)) {
    const n = part.atoms.length === 1 && isPlainNumber(part.atoms[0]) ? numberValue(part.atoms[0]) : undefined;
    if (n === undefined || !Number.isInteger(n) || n < 1) {
      diagnostics.push(diagnostic("EFF2062", { found: cellText(cell) }, cell.span));
      return undefined;
    }
    if (n > rowCount) {
      diagnostics.push(
        diagnostic("EFF2034", { stage: n }, part.span, { help: `the stage table has ${rowCount} stages` }),
      );
      return undefined;
    }
    stages.push(n);
  }
  return stages;
}

/** The `overrides` table, read into assignments; every problem reported, the readable rows kept. */
function readOverrides(
  entry: Entry,
  variants: readonly Variant[],
  rowCount: number,
  diagnostics: Diagnostic[],
): Assignments {
  const assignments: Assignments = new Map();
  const table = readTable(entry, "overrides", OVERRIDE_COLUMNS, diagnostics);
  if (!table) {
    diagnostics.push(
      diagnostic("EFF2007", { name: "overrides" }, entry.key.span, {
        help: "the first row names the columns: `| Variant | Stages | Layers |`",
      }),
    );
    return assignments;
  }
  const columns = OVERRIDE_COLUMNS.filter(
    (c) => c.name !== "Variant" && c.name !== "Stages" && table.columns.has(c.name),
  );
  for (const row of table.rows) {
    const nameCell = row.cell("Variant")!;
    const name = nameCell.atoms.map((a) => a.text).join("");
    const variant = variants.find((v) => v.name === name);
    if (!variant) {
      diagnostics.push(
        diagnostic("EFF2046", { name: name || "(empty)" }, nameCell.span, {
          help:
            didYouMean(
              name,
              variants.map((v) => v.name),
            ) ?? `the variants are ${variants.map((v) => `\`${v.name}\``).join(", ")}`,
        }),
      );
      continue;
    }
    const stages = readStageList(row.cell("Stages")!, rowCount, diagnostics);
    if (!stages) continue;
    const byStage = assignments.get(name) ?? new Map<number, Map<string, Cell>>();
    assignments.set(name, byStage);
    for (const column of columns) {
      const cell = row.cell(column.name)!;
      if (isNotApplicable(cell)) continue;
      const values = SINGLE_VALUE.has(column.name) ? [cell] : splitList(cell);
      if (values.length !== 1 && values.length !== stages.length) {
        diagnostics.push(
          diagnostic("EFF2047", { column: column.name, found: values.length, expected: stages.length }, cell.span, {
            related: [{ span: row.cell("Stages")!.span, message: "the stages this row sets" }],
          }),
        );
        continue;
      }
      stages.forEach((stage, k) => {
        const cells = byStage.get(stage) ?? new Map<string, Cell>();
        byStage.set(stage, cells);
        const value = values.length === 1 ? values[0] : values[k];
        const first = cells.get(column.name);
        if (first)
          diagnostics.push(
            diagnostic("EFF2049", { variant: name, stage, column: column.name }, value.span, {
              related: [{ span: first.span, message: "first set here" }],
              help: "set each stage's column once per variant",
            }),
          );
        else cells.set(column.name, value);
      });
    }
  }
  return assignments;
}

/** Adds the diagnostics not already reported: a variant's table re-reads the spec's rows, whose own errors are reported once, and one override cell may stand in several stages. */
function reportNew(diagnostics: Diagnostic[], found: readonly Diagnostic[]): void {
  const key = (d: Diagnostic) => `${d.code} ${d.span?.start} ${d.span?.end} ${d.message}`;
  const known = new Set(diagnostics.map(key));
  for (const d of found) {
    if (known.has(key(d))) continue; // also one cell laid over several stages (an Operator for all)
    known.add(key(d));
    diagnostics.push(d);
  }
}

/**
 * The variants with their own stage tables: the `overrides` table's cells laid over the
 * spec's rows, each variant's table checked as the spec's is, and each override checked
 * against the variant's scaling (EFF2048). Variants without overrides come back as they were.
 */
export function applyOverrides(
  entry: Entry,
  variants: readonly Variant[],
  rows: readonly TableRow[],
  defaults: NetworkDefaults,
  scaling: Scaling,
  diagnostics: Diagnostic[],
): Variant[] {
  const assignments = readOverrides(entry, variants, rows.length, diagnostics);
  return variants.map((variant) => {
    const byStage = assignments.get(variant.name);
    if (!byStage || byStage.size === 0) return variant;
    const own = rows.map((row): TableRow => {
      const cells = byStage.get(row.position);
      return cells ? { ...row, cell: (column) => cells.get(column) ?? row.cell(column) } : row;
    });
    const found: Diagnostic[] = [];
    const stages = stagesFromRows(own, defaults, found, (position) => [...(byStage.get(position)?.keys() ?? [])]);
    reportNew(diagnostics, found);
    const plan = scalingPlan(stages, scaling);
    stages.forEach((stage, i) => {
      for (const column of stage.overridden ?? []) {
        const rule = SCALED_BY[column];
        const coefficient = rule && variant[rule.dimension];
        if (!rule || coefficient === 1 || !rule.scales(plan[i])) continue;
        diagnostics.push(
          diagnostic(
            "EFF2048",
            { variant: variant.name, stage: stage.index, column, dimension: rule.dimension, coefficient },
            byStage.get(stage.index)!.get(column)!.span,
            {
              related: [{ span: variant.span, message: `${variant.name} scales ${rule.dimension}` }],
              help: `an override is the number the variant builds: give ${variant.name} ${rule.dimension} 1, or keep stage ${stage.index} out of ${rule.dimension} scaling (\`fixed stages ${stage.index}\`)`,
            },
          ),
        );
      }
    });
    return { ...variant, stages };
  });
}

const derived = new WeakMap<Variant, { readonly file: Spec; readonly spec: Spec }>();

/** The spec as a variant builds it: its own stage table where it has one (the same object on every call). */
export function variantSpec(spec: Spec, variant: Variant): Spec {
  if (!variant.stages) return spec;
  const known = derived.get(variant);
  if (known?.file === spec) return known.spec;
  const own: Spec = { ...spec, stages: variant.stages };
  derived.set(variant, { file: spec, spec: own });
  return own;
}
