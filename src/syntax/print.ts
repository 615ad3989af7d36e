import { displayWidth } from "../text/width.ts";
import { atomsText, type Block, type Document, type Entry, type Row } from "./ast.ts";

const INDENT = "  ";

/**
 * Syntax tree to canonical text (`effnet fmt`): two-space indentation, one space
 * between arguments, table columns aligned, Markdown rules redrawn to the column width,
 * comments and single blank lines kept. parse(print(doc)) equals doc up to spans.
 */
export function print(document: Document): string {
  const lines: string[] = [];
  document.entries.forEach((entry, i) => printEntry(entry, 0, lines, i === 0));
  for (const c of document.closingComments) lines.push(c);
  return lines.join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
}

function printEntry(entry: Entry, depth: number, lines: string[], first: boolean): void {
  const indent = INDENT.repeat(depth);
  if (entry.blankLineBefore && !first) lines.push("");
  for (const c of entry.leadingComments) lines.push(indent + c);
  const head = [entry.key.text, atomsText(entry.args)].filter(Boolean).join(" ");
  lines.push(withComment(indent + head + (entry.block ? " {" : ""), entry.trailingComment));
  if (entry.block) printBlock(entry.block, depth + 1, lines);
}

function printBlock(block: Block, depth: number, lines: string[]): void {
  const indent = INDENT.repeat(depth);
  let i = 0;
  while (i < block.items.length) {
    const item = block.items[i];
    if (item.kind === "entry") {
      // A blank line right after `{` is the writer's and is kept (parse(print(doc)) must equal doc): only the
      // file's first entry drops one.
      printEntry(item, depth, lines, false);
      i++;
      continue;
    }
    // A run of rows is one table: align it as a whole.
    let j = i;
    while (j < block.items.length && block.items[j].kind === "row") j++;
    printTable(block.items.slice(i, j) as Row[], indent, lines);
    i = j;
  }
  for (const c of block.closingComments) lines.push(indent + c);
  lines.push(withComment(INDENT.repeat(depth - 1) + "}", block.closeTrailingComment));
}

function printTable(rows: Row[], indent: string, lines: string[]): void {
  const isRule = (row: Row) =>
    row.cells.length > 0 && row.cells.every((c) => c.atoms.length > 0 && c.atoms.every((a) => a.kind === "rule"));
  const texts = rows.map((row) => row.cells.map((cell) => atomsText(cell.atoms)));
  const widths: number[] = [];
  rows.forEach((row, r) => {
    if (isRule(row)) return;
    texts[r].forEach((t, c) => (widths[c] = Math.max(widths[c] ?? 3, displayWidth(t))));
  });
  rows.forEach((row, r) => {
    if (row.blankLineBefore) lines.push("");
    for (const c of row.leadingComments) lines.push(indent + c);
    const cells = isRule(row)
      ? texts[r].map((t, c) => ruleOf(t, widths[c] ?? 3))
      : texts[r].map((t, c) => t + " ".repeat(Math.max(0, (widths[c] ?? 0) - displayWidth(t))));
    const body = cells.length ? `| ${cells.join(" | ")} |` : "|";
    lines.push(withComment(indent + body, row.trailingComment));
  });
}

/** Keeps a rule's alignment colons (`:---:`) and redraws its dashes to the column width. */
function ruleOf(text: string, w: number): string {
  const left = text.startsWith(":") ? ":" : "";
  const right = text.endsWith(":") ? ":" : "";
  return left + "-".repeat(Math.max(1, w - left.length - right.length)) + right;
}

function withComment(line: string, comment: string | undefined): string {
  return comment ? `${line}  ${comment}` : line;
}
