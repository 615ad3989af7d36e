import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Span } from "../diagnostics/source.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import { atomsText, type Cell, type Entry, type Row } from "../syntax/ast.ts";

/**
 * Tables whose header row names the columns: column order comes from the header, so
 * Table 1 typed as printed (`| Stage i | Operator F̂i | Resolution Ĥi×Ŵi | #Channels Ĉi |
 * #Layers L̂i |`) is valid, and optional columns may be added anywhere.
 */
export interface ColumnDef {
  readonly name: string;
  /** Other header texts for the same column, lower case. */
  readonly aliases: readonly string[];
  readonly required: boolean;
  /** Why this table does not take the column after all (EFF2010, with this as its help): the overrides table's Resolution. */
  readonly refused?: string;
}

export interface TableRow {
  readonly row: Row;
  /** 1-based position among the table's data rows. */
  readonly position: number;
  readonly cell: (column: string) => Cell | undefined;
}

export interface Table {
  readonly header: Row;
  readonly rows: readonly TableRow[];
  readonly columns: ReadonlySet<string>;
}

const isRuleRow = (row: Row) =>
  row.cells.length > 0 && row.cells.every((c) => c.atoms.length > 0 && c.atoms.every((a) => a.kind === "rule"));

/** `#Channels Ĉi` → `channels ĉi`: the header text as a key. */
function headerKey(cell: Cell): string {
  return atomsText(cell.atoms).replace(/^#/, "").replace(/\s+/g, " ").toLowerCase();
}

function identify(cell: Cell, columns: readonly ColumnDef[]): ColumnDef | undefined {
  const key = headerKey(cell);
  const byText = (text: string) => columns.find((c) => c.name.toLowerCase() === text || c.aliases.includes(text));
  // The whole header text first ("paper params"), then its first word ("operator" of "Operator F̂i").
  return byText(key) ?? byText(key.split(" ")[0]);
}

export function readTable(
  entry: Entry,
  tableName: string,
  columns: readonly ColumnDef[],
  diagnostics: Diagnostic[],
): Table | undefined {
  const rows = (entry.block?.items ?? []).filter((i): i is Row => i.kind === "row");
  const [header, ...rest] = rows.filter((r) => !isRuleRow(r));
  if (!header) return undefined;
  const order: (ColumnDef | undefined)[] = [];
  const seen = new Map<string, Span>();
  const unknown: Cell[] = [];
  for (const cell of header.cells) {
    const column = identify(cell, columns);
    if (column && seen.has(column.name)) {
      diagnostics.push(
        diagnostic("EFF2013", { name: column.name }, cell.span, {
          related: [{ span: seen.get(column.name)!, message: "first here" }],
        }),
      );
      order.push(undefined);
      continue;
    }
    if (column?.refused) {
      diagnostics.push(
        diagnostic("EFF2010", { name: atomsText(cell.atoms), table: tableName }, cell.span, { help: column.refused }),
      );
      order.push(undefined);
      continue;
    }
    if (column) seen.set(column.name, cell.span);
    else unknown.push(cell);
    order.push(column);
  }
  const missing = columns.filter((column) => column.required && !seen.has(column.name));
  // An unknown header is most likely the missing column misspelt: say so once, on the cell.
  for (const cell of unknown) {
    const word = headerKey(cell).split(" ")[0] || "(empty)";
    const help =
      didYouMean(
        word,
        missing.map((c) => c.name),
      ) ??
      didYouMean(
        word,
        columns.map((c) => c.name),
      ) ??
      `the columns are ${columns.map((c) => c.name).join(", ")}${missing.length ? `; this table still needs ${missing.map((c) => c.name).join(", ")}` : ""}`;
    diagnostics.push(
      diagnostic("EFF2010", { name: atomsText(cell.atoms) || "(empty)", table: tableName }, cell.span, { help }),
    );
  }
  if (unknown.length === 0)
    for (const column of missing) {
      diagnostics.push(
        diagnostic("EFF2011", { name: column.name, table: tableName }, header.span, {
          help: `add a \`${column.name}\` column to the header and a cell to every row`,
        }),
      );
    }
  // Without a required column no row can be read; the header's errors are the ones to fix.
  if (missing.length) return { header, rows: [], columns: new Set(seen.keys()) };
  if (rest.length === 0) diagnostics.push(diagnostic("EFF2014", { table: tableName }, header.span));
  const tableRows: TableRow[] = [];
  rest.forEach((row, i) => {
    if (row.cells.length !== header.cells.length) {
      diagnostics.push(diagnostic("EFF2012", { expected: header.cells.length, found: row.cells.length }, row.span));
      return;
    }
    const byName = new Map<string, Cell>();
    row.cells.forEach((cell, c) => {
      const column = order[c];
      if (column) byName.set(column.name, cell);
    });
    tableRows.push({ row, position: i + 1, cell: (name) => byName.get(name) });
  });
  return { header, rows: tableRows, columns: new Set(seen.keys()) };
}
