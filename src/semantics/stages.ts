import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { joinSpans, type Span } from "../diagnostics/source.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import type { Activation } from "../vocabulary/activations.ts";
import {
  ACTIVATIONS,
  findOperator,
  MODIFIERS,
  OPERATORS,
  type OperatorDef,
  type OperatorParams,
  type OperatorParamName,
  type SqueezeExciteRule,
} from "../operators/table.ts";
import { atomsText, type Atom, type Cell, type Entry } from "../syntax/ast.ts";
import type { Stage } from "./spec.ts";
import { readTable, type ColumnDef, type TableRow } from "./tables.ts";
import { isPlainNumber, numberValue } from "./values.ts";

/** The stage table's columns: Table 1's five, and optional ones that override the operator cell's defaults. */
export const STAGE_COLUMNS: readonly ColumnDef[] = [
  { name: "Stage", aliases: ["stage i", "i"], required: false },
  { name: "Operator", aliases: ["op"], required: true },
  { name: "Resolution", aliases: ["input"], required: true },
  { name: "Channels", aliases: ["filters", "c"], required: true },
  { name: "Layers", aliases: ["repeats", "n"], required: true },
  { name: "Stride", aliases: ["s", "strides"], required: false },
  { name: "Kernel", aliases: ["k"], required: false },
  { name: "Expand", aliases: ["expansion", "t"], required: false },
  { name: "Expanded", aliases: ["exp size", "exp"], required: false },
  { name: "SE", aliases: ["squeeze_excite"], required: false },
  { name: "Groups", aliases: ["g", "cardinality"], required: false },
  { name: "Activation", aliases: [], required: false },
];

interface ParamColumn {
  readonly column: string;
  /** The cell's value, or undefined after a diagnostic. */
  readonly read: (cell: Cell, diagnostics: Diagnostic[]) => OperatorParams[OperatorParamName] | undefined;
}

/** Which optional column gives each operator parameter, and how its cell is read (one entry per parameter). */
export const PARAM_COLUMNS: { readonly [P in OperatorParamName]: ParamColumn } = {
  kernel: { column: "Kernel", read: (c, d) => positiveInteger(c, "Kernel", d) },
  expand: { column: "Expand", read: (c, d) => positiveInteger(c, "Expand", d) },
  expandedWidth: { column: "Expanded", read: (c, d) => positiveInteger(c, "Expanded", d) },
  seRatio: {
    column: "SE",
    read: (c, d) => {
      const v = c.atoms.length === 1 ? numberValue(c.atoms[0]) : undefined;
      if (v !== undefined && v >= 0 && v <= 1) return v;
      d.push(diagnostic("EFF2054", { found: cellText(c) }, c.span));
      return undefined;
    },
  },
  groups: { column: "Groups", read: (c, d) => positiveInteger(c, "Groups", d) },
  activation: {
    column: "Activation",
    read: (c, d) => {
      const text = cellText(c);
      if ((ACTIVATIONS as readonly string[]).includes(text)) return text as Activation;
      d.push(
        diagnostic("EFF2055", { found: text, known: ACTIVATIONS }, c.span, {
          help: didYouMean(text, ACTIVATIONS),
        }),
      );
      return undefined;
    },
  },
};

/** The optional columns an operator takes, for messages and grammar/vocabulary.md. */
export const paramColumnsOf = (def: OperatorDef) =>
  def.params.length ? def.params.map((p) => PARAM_COLUMNS[p].column).join(", ") : "no optional columns";

export interface NetworkDefaults {
  readonly activation: Activation;
  readonly seRatio: number;
  readonly seRule: SqueezeExciteRule;
  readonly input?: { readonly height: number; readonly width: number; readonly span: Span };
}

interface Draft {
  readonly index: number;
  readonly operator: OperatorDef;
  readonly params: OperatorParams;
  readonly resolution?: { height: number; width: number };
  readonly channels?: number;
  readonly layers?: number;
  readonly declaredStride?: { value: number; span: Span };
  /** Columns a variant's overrides gave this row (none in the spec's own table). */
  readonly overridden: readonly string[];
  readonly spans: Stage["spans"];
}

export const cellText = (cell: Cell) => atomsText(cell.atoms) || "(empty)";

/** `-` (or nothing) in an optional column: the paper's "not applicable". */
export const isNotApplicable = (cell: Cell) =>
  cell.atoms.length === 0 || (cell.atoms.length === 1 && cell.atoms[0].text === "-");

/** Candidates for "did you mean" on operator names. */
const OPERATOR_EXAMPLES = [...OPERATORS.map((o) => o.syntax.split(",")[0]), "MBConv1", "MBConv6", "Conv1x1", "Conv3x3"];

/**
 * Reads and checks the stage table. Every row is checked even after an error in an
 * earlier row, so one run reports them all; strides are inferred from consecutive
 * resolutions once every row has been read. `rows` are the table's rows as read, which a
 * variant's overrides (src/semantics/overrides.ts) lay their cells over.
 */
export function checkStages(
  entry: Entry,
  defaults: NetworkDefaults,
  diagnostics: Diagnostic[],
): { stages: Stage[]; rowCount: number; rows: readonly TableRow[] } {
  const table = readTable(entry, "stage", STAGE_COLUMNS, diagnostics);
  if (!table) {
    diagnostics.push(
      diagnostic("EFF2007", { name: "stages" }, entry.key.span, {
        help: "the first row names the columns: `| Stage | Operator | Resolution | Channels | Layers |`",
      }),
    );
    return { stages: [], rowCount: 0, rows: [] };
  }
  return { stages: stagesFromRows(table.rows, defaults, diagnostics), rowCount: table.rows.length, rows: table.rows };
}

/**
 * The stages of a table's rows: the spec's own rows, or a variant's (its overrides laid over
 * them; `overridden` names the columns an override gave a row). A row of 0 layers is a stage
 * the network leaves out (EfficientNetV2-S has no stage 8, V2-M and V2-L do): it is checked
 * like the others, must keep the resolution, and is not among the returned stages.
 */
export function stagesFromRows(
  rows: readonly TableRow[],
  defaults: NetworkDefaults,
  diagnostics: Diagnostic[],
  overridden?: (position: number) => readonly string[],
): Stage[] {
  const drafts: Draft[] = [];
  for (const row of rows) {
    const stageCell = row.cell("Stage");
    if (stageCell) {
      const n = numberValue(stageCell.atoms[0]);
      if (stageCell.atoms.length !== 1 || n !== row.position) {
        diagnostics.push(
          diagnostic("EFF2020", { found: cellText(stageCell), expected: row.position }, stageCell.span, {
            label: `this is row ${row.position}`,
          }),
        );
      }
    }
    const operatorCell = row.cell("Operator")!;
    const operator = readOperator(operatorCell, row.cell, defaults, diagnostics);
    if (!operator) continue;
    const resolutionCell = row.cell("Resolution")!;
    const channelsCell = row.cell("Channels")!;
    const layersCell = row.cell("Layers")!;
    const strideCell = row.cell("Stride");
    const stride =
      strideCell && !isNotApplicable(strideCell) ? positiveInteger(strideCell, "Stride", diagnostics) : undefined;
    // Pooling keeps its input's channels: in a variant's table, unless an override sets its
    // own, it follows its input (ResNet-18's head after 512 channels, where the table's
    // ResNet-50 has 2048); the spec's own table is checked (checkPlacement).
    const previous = presentBefore(drafts, drafts.length, row.position);
    const follows =
      overridden !== undefined &&
      operator.def.keepsChannels === true &&
      previous?.channels !== undefined &&
      !overridden(row.position).includes("Channels");
    drafts.push({
      index: row.position,
      operator: operator.def,
      params: operator.params,
      resolution: readResolution(resolutionCell, diagnostics),
      channels: follows ? previous!.channels : positiveInteger(channelsCell, "Channels", diagnostics),
      layers: layerCount(layersCell, diagnostics),
      declaredStride: stride !== undefined ? { value: stride, span: strideCell!.span } : undefined,
      overridden: overridden?.(row.position) ?? [],
      spans: {
        row: row.row.span,
        operator: operatorCell.span,
        resolution: resolutionCell.span,
        channels: channelsCell.span,
        layers: layersCell.span,
      },
    });
  }
  checkPlacement(drafts, diagnostics);
  checkInputResolution(drafts, defaults, diagnostics);
  if (drafts.length > 0 && drafts.every((d) => d.layers === 0)) {
    diagnostics.push(
      diagnostic(
        "EFF2037",
        { stage: drafts[0].index, why: "every stage has 0 layers, and a network needs at least one" },
        drafts[0].spans.layers,
      ),
    );
    return [];
  }
  return inferStrides(drafts, diagnostics);
}

/**
 * The draft that feeds row `position`: the nearest one before it, past rows of 0 layers
 * only (a row that failed to read leaves its successor's input unknown).
 */
function presentBefore(drafts: readonly Draft[], before: number, position: number): Draft | undefined {
  let expected = position - 1;
  for (let i = before - 1; i >= 0; i--) {
    const d = drafts[i];
    if (d.index !== expected) return undefined;
    if (d.layers !== 0) return d;
    expected--;
  }
  return undefined;
}

/** A Layers cell: a whole number of repeats, 0 for a stage the network leaves out. */
function layerCount(cell: Cell, diagnostics: Diagnostic[]): number | undefined {
  const value = cell.atoms.length === 1 && isPlainNumber(cell.atoms[0]) ? numberValue(cell.atoms[0]) : undefined;
  if (value === undefined || !Number.isInteger(value) || value < 0) {
    diagnostics.push(diagnostic("EFF2063", { found: cellText(cell) }, cell.span));
    return undefined;
  }
  return value;
}

function positiveInteger(cell: Cell, column: string, diagnostics: Diagnostic[]): number | undefined {
  const value = cell.atoms.length === 1 && isPlainNumber(cell.atoms[0]) ? numberValue(cell.atoms[0]) : undefined;
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    diagnostics.push(diagnostic("EFF2023", { column, found: cellText(cell) }, cell.span));
    return undefined;
  }
  return value;
}

/** `224x224`, `224×224` or `224` (square). */
function readResolution(cell: Cell, diagnostics: Diagnostic[]): { height: number; width: number } | undefined {
  const [atom] = cell.atoms;
  if (cell.atoms.length === 1) {
    if (atom.kind === "shape") {
      const dims = atom.text.split(/[x×]/).map(Number);
      if (dims.length === 2 && dims.every((d) => d > 0)) return { height: dims[0], width: dims[1] };
    } else if (isPlainNumber(atom)) {
      const n = numberValue(atom)!;
      if (Number.isInteger(n) && n > 0) return { height: n, width: n };
    }
  }
  diagnostics.push(diagnostic("EFF2027", { found: cellText(cell) }, cell.span));
  return undefined;
}

/** Splits a cell's atoms at its commas: an operator's name, then modifiers; a list's values. */
export function splitAtCommas(atoms: readonly Atom[]): Atom[][] {
  const groups: Atom[][] = [[]];
  for (const atom of atoms) {
    if (atom.text === ",") groups.push([]);
    else groups[groups.length - 1].push(atom);
  }
  return groups;
}

function readOperator(
  cell: Cell,
  column: (name: string) => Cell | undefined,
  defaults: NetworkDefaults,
  diagnostics: Diagnostic[],
): { def: OperatorDef; params: OperatorParams } | undefined {
  const [nameAtoms, ...modifierGroups] = splitAtCommas(cell.atoms);
  const name = atomsText(nameAtoms);
  const found = findOperator(name);
  if (!found) {
    diagnostics.push(
      diagnostic(
        "EFF2021",
        { name: name || "(empty)" },
        nameAtoms.length ? joinSpans(nameAtoms[0].span, nameAtoms[nameAtoms.length - 1].span) : cell.span,
        {
          help:
            didYouMean(name, OPERATOR_EXAMPLES) ??
            `known operators: ${OPERATORS.map((o) => `\`${o.syntax}\``).join(", ")}`,
        },
      ),
    );
    return undefined;
  }
  const { def, match } = found;
  // Later sources override earlier ones: the operator's defaults, its name, modifiers, then columns.
  const given: { -readonly [K in keyof OperatorParams]?: OperatorParams[K] } = {
    ...def.defaults,
    ...def.fromName(match),
  };
  let ok = true;
  const fromModifiers: Partial<OperatorParams> = {};
  for (const group of modifierGroups) {
    const text = atomsText(group);
    const modifier = MODIFIERS.map((m) => ({ m, match: m.pattern.exec(text) })).find((x) => x.match);
    const span = group.length ? joinSpans(group[0].span, group[group.length - 1].span) : cell.span;
    const applied = modifier?.m.apply(modifier.match!, span);
    if (!modifier || !applied || "code" in applied) {
      diagnostics.push(
        applied && "code" in applied
          ? applied
          : diagnostic("EFF2022", { modifiers: MODIFIERS.map((m) => m.syntax), found: text || "(empty)" }, span),
      );
      ok = false;
    } else {
      Object.assign(given, applied);
      Object.assign(fromModifiers, applied);
    }
  }
  // Each parameter the operator takes may come from its column; a column for one it does
  // not take is EFF2036, and a column contradicting the cell (`MBConv6` with Expand 4) EFF2029.
  const fromCell: Partial<OperatorParams> = { ...def.fromName(match), ...fromModifiers };
  for (const [param, p] of Object.entries(PARAM_COLUMNS) as [OperatorParamName, ParamColumn][]) {
    const c = column(p.column);
    if (!c || isNotApplicable(c)) continue;
    if (!def.params.includes(param)) {
      diagnostics.push(
        diagnostic("EFF2036", { column: p.column, operator: atomsText(cell.atoms) }, c.span, {
          related: [{ span: cell.span, message: `${def.name} takes ${paramColumnsOf(def)}` }],
          help: "write `-` in this row's cell, or leave the column out",
        }),
      );
      ok = false;
      continue;
    }
    const value = p.read(c, diagnostics);
    if (value === undefined) {
      ok = false;
      continue;
    }
    const named = fromCell[param];
    if (named !== undefined && named !== value) {
      diagnostics.push(
        diagnostic(
          "EFF2029",
          {
            column: p.column,
            column_value: String(value),
            operator: atomsText(cell.atoms),
            operator_value: `${param === "seRatio" ? "SE" : param} ${named}`,
          },
          c.span,
          {
            related: [{ span: cell.span, message: "the operator cell" }],
            help: "give it in one place, or make both say the same",
          },
        ),
      );
      ok = false;
      continue;
    }
    (given as Record<string, unknown>)[param] = value;
  }
  const activation = (given.activation as Activation | undefined) ?? defaults.activation;
  const kernel = given.kernel ?? 1;
  if (!(Number.isInteger(kernel) && kernel > 0 && kernel % 2 === 1)) {
    diagnostics.push(diagnostic("EFF2051", { kernel }, cell.span));
    ok = false;
  }
  if (def.fromName(match).expand !== undefined && !(given.expand! >= 1)) {
    diagnostics.push(diagnostic("EFF2052", { operator: name, expand: given.expand! }, cell.span));
    ok = false;
  }
  if (def.params.includes("expandedWidth")) {
    const expandedSpan = column("Expanded")?.span;
    if (given.expand === undefined && given.expandedWidth === undefined) {
      diagnostics.push(diagnostic("EFF2053", { operator: def.name }, cell.span));
      ok = false;
    } else if (given.expand !== undefined && given.expandedWidth !== undefined && expandedSpan) {
      diagnostics.push(
        diagnostic(
          "EFF2029",
          {
            column: "Expanded",
            column_value: String(given.expandedWidth),
            operator: atomsText(cell.atoms),
            operator_value: `expand ${given.expand}`,
          },
          expandedSpan,
          {
            related: [{ span: cell.span, message: "the operator cell" }],
            help: "write `MBConv` with an Expanded column, or `MBConvN` without one",
          },
        ),
      );
      ok = false;
    }
  }
  if (!ok) return undefined;
  return {
    def,
    params: {
      kernel,
      expand: given.expand ?? 1,
      seRatio: given.seRatio ?? (def.usesSqueezeExcite ? defaults.seRatio : 0),
      seRule: defaults.seRule,
      groups: given.groups ?? 1,
      activation,
      ...(given.expandedWidth !== undefined ? { expandedWidth: given.expandedWidth } : {}),
      ...(given.hidden !== undefined ? { hidden: given.hidden } : {}),
    },
  };
}

/** The head classifies, so it comes last and once; pooling keeps its input's channels. */
function checkPlacement(drafts: readonly Draft[], diagnostics: Diagnostic[]): void {
  drafts.forEach((d, i) => {
    // The stage that feeds this one: unknown after a row that failed (an unknown operator).
    const previous = presentBefore(drafts, i, d.index);
    if (
      d.operator.keepsChannels &&
      d.layers !== 0 &&
      previous?.channels !== undefined &&
      d.channels !== undefined &&
      d.channels !== previous.channels
    ) {
      diagnostics.push(
        diagnostic(
          "EFF2056",
          { operator: d.operator.print(d.params), input: previous.channels, channels: d.channels },
          d.spans.channels,
          {
            related: [{ span: previous.spans.channels, message: `stage ${previous.index}'s channels` }],
          },
        ),
      );
    }
    if (d.operator.role !== "head") return;
    if (i !== drafts.length - 1)
      diagnostics.push(diagnostic("EFF2028", { operator: d.operator.print(d.params) }, d.spans.operator));
    if (d.layers !== undefined && d.layers !== 1)
      diagnostics.push(
        diagnostic("EFF2057", { operator: d.operator.print(d.params), layers: d.layers }, d.spans.layers),
      );
  });
}

function checkInputResolution(drafts: readonly Draft[], defaults: NetworkDefaults, diagnostics: Diagnostic[]): void {
  const first = drafts[0];
  const input = defaults.input;
  if (!first?.resolution || !input || first.index !== 1) return;
  if (first.resolution.height !== input.height || first.resolution.width !== input.width) {
    diagnostics.push(
      diagnostic(
        "EFF2026",
        { stage: `${first.resolution.height}x${first.resolution.width}`, input: `${input.height}x${input.width}` },
        first.spans.resolution,
        {
          related: [{ span: input.span, message: "the input is declared here" }],
        },
      ),
    );
  }
}

/**
 * Table 1's resolution column is each stage's input resolution, so a stage's stride is
 * its resolution over the next stage's (stage 3: 112 → 56, stride 2). The last stage
 * keeps its resolution (stride 1) unless a Stride column says otherwise.
 */
function inferStrides(drafts: readonly Draft[], diagnostics: Diagnostic[]): Stage[] {
  const stages: Stage[] = [];
  drafts.forEach((d, i) => {
    const next = drafts[i + 1];
    let stride: number | undefined = d.declaredStride?.value ?? 1;
    if (next && d.resolution && next.resolution && next.index === d.index + 1) {
      const rh = d.resolution.height / next.resolution.height;
      const rw = d.resolution.width / next.resolution.width;
      if (!(Number.isInteger(rh) && rh >= 1 && rh === rw)) {
        const fmtRes = (r: { height: number; width: number }) => `${r.height}x${r.width}`;
        diagnostics.push(
          diagnostic("EFF2024", { from: fmtRes(d.resolution), to: fmtRes(next.resolution) }, next.spans.resolution, {
            label:
              rh < 1
                ? "resolution grows here"
                : `${fmtRes(d.resolution)} / ${fmtRes(next.resolution)} is not a whole number`,
            related: [{ span: d.spans.resolution, message: `stage ${d.index}'s input resolution` }],
            help: "a stage's stride is its input resolution divided by the next stage's; both sides must divide evenly",
          }),
        );
        stride = undefined;
      } else {
        if (d.declaredStride && d.declaredStride.value !== rh) {
          diagnostics.push(
            diagnostic("EFF2025", { declared: d.declaredStride.value, inferred: rh }, d.declaredStride.span, {
              related: [
                { span: d.spans.resolution, message: "this resolution" },
                { span: next.spans.resolution, message: "and the next stage's imply it" },
              ],
            }),
          );
        }
        stride = rh;
      }
    }
    if (d.layers === 0 && stride !== undefined && stride !== 1 && d.resolution && next?.resolution) {
      diagnostics.push(
        diagnostic(
          "EFF2037",
          {
            stage: d.index,
            why: `its stride is ${stride} (${d.resolution.height}x${d.resolution.width} → ${next.resolution.height}x${next.resolution.width}), and the stages after it are written for the smaller resolution`,
          },
          d.spans.layers,
          {
            related: [{ span: d.spans.resolution, message: "this stage's input resolution" }],
            help: "only a stage of stride 1 can have 0 layers",
          },
        ),
      );
      stride = undefined;
    }
    if (stride !== undefined && d.resolution && d.channels !== undefined && d.layers !== undefined && d.layers > 0) {
      stages.push({
        index: d.index,
        operator: d.operator,
        params: d.params,
        resolution: d.resolution,
        channels: d.channels,
        layers: d.layers,
        stride,
        spans: d.spans,
        ...(d.overridden.length ? { overridden: d.overridden } : {}),
      });
    }
  });
  return stages;
}
