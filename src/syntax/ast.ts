import type { Span } from "../diagnostics/source.ts";

/**
 * The syntax tree: generic and lossless enough to print back (comments and blank lines
 * kept). Meaning is given to it by src/semantics.
 */
export type AtomKind = "name" | "number" | "shape" | "header" | "rule" | "symbol";

export interface Atom {
  readonly kind: AtomKind;
  readonly text: string;
  readonly span: Span;
}

export interface Trivia {
  /** Own-line comments just above the item, `#` included. */
  readonly leadingComments: readonly string[];
  /** A comment at the end of the item's first line. */
  readonly trailingComment?: string;
  /** The item is preceded by a blank line. */
  readonly blankLineBefore: boolean;
}

export interface Entry extends Trivia {
  readonly kind: "entry";
  readonly key: Atom;
  readonly args: readonly Atom[];
  readonly block?: Block;
  readonly span: Span;
}

export interface Block {
  readonly open: Span;
  readonly close: Span;
  readonly items: readonly (Entry | Row)[];
  /** Own-line comments after the last item, before `}`. */
  readonly closingComments: readonly string[];
  readonly closeTrailingComment?: string;
}

export interface Cell {
  readonly atoms: readonly Atom[];
  readonly span: Span;
}

export interface Row extends Trivia {
  readonly kind: "row";
  readonly cells: readonly Cell[];
  readonly span: Span;
}

export interface Document {
  readonly entries: readonly Entry[];
  readonly closingComments: readonly string[];
}

/** The source text of atoms as the printer writes them: `MBConv6, k3x3`, `beta^2`. */
export function atomsText(atoms: readonly Atom[]): string {
  let out = "";
  atoms.forEach((atom, i) => {
    const previous = atoms[i - 1];
    const tight =
      previous !== undefined &&
      (TIGHT.has(atom.text) || atom.text === "," || TIGHT.has(previous.text)) &&
      !gluesIntoShape(atoms, i);
    out += (i === 0 || tight ? "" : " ") + atom.text;
  });
  return out;
}

/**
 * `224 × 224` is three atoms, but printed tight it would read back as the one shape
 * `224×224`: a different document (the first is an invalid resolution, the second a valid
 * one). So is `7x7 × 8G` (a shape, then a quantity), which tight reads back as the shape
 * `7x7×8` and a name `G`. A `×` between text that ends in a digit and text that starts with
 * one keeps its spaces, so printing never changes meaning (found by the fuzzer).
 */
function gluesIntoShape(atoms: readonly Atom[], i: number): boolean {
  const [before, here, after] =
    atoms[i].text === "×" ? [atoms[i - 1], atoms[i], atoms[i + 1]] : [atoms[i - 2], atoms[i - 1], atoms[i]];
  return here?.text === "×" && /\d$/.test(before?.text ?? "") && /^\d/.test(after?.text ?? "");
}

/** Symbols printed without spaces around them. */
const TIGHT = new Set(["^", "×", "/", "%"]);
