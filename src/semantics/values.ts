import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { spanOf, type Span } from "../diagnostics/source.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import { atomsText, type Atom } from "../syntax/ast.ts";

/** Unit suffixes of quantities: `40G` MACs, `5.3M` parameters, the paper's `0.39B`. */
export const UNIT_SUFFIXES: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, B: 1e9, T: 1e12 };

/** The value of a number atom (suffix included), or undefined if it is not one. */
export function numberValue(atom: Atom | undefined): number | undefined {
  if (!atom || atom.kind !== "number") return undefined;
  const m = /^(.*?)([KMGBT]?)$/.exec(atom.text)!;
  const value = Number(m[1]) * (m[2] ? UNIT_SUFFIXES[m[2]] : 1);
  return Number.isFinite(value) ? value : undefined;
}

export function isPlainNumber(atom: Atom | undefined): boolean {
  return atom?.kind === "number" && /\d$/.test(atom.text);
}

export function describeAtom(atom: Atom | undefined): string {
  return atom ? `\`${atom.text}\`` : "nothing";
}

export function spanOfAtoms(atoms: readonly Atom[], fallback: Span): Span {
  return atoms.length ? spanOf(atoms[0].span.start, atoms[atoms.length - 1].span.end) : fallback;
}

/**
 * Reads an entry's arguments left to right. Each `expect…` either returns the value or
 * records a diagnostic (code chosen by the caller's context) and returns undefined, so a
 * reader never throws and a bad argument is reported once, at its own span.
 */
export class ArgReader {
  private index = 0;

  constructor(
    readonly atoms: readonly Atom[],
    /** Where to point when an argument is missing: the entry's key. */
    private readonly anchor: Span,
    private readonly owner: string,
    private readonly diagnostics: Diagnostic[],
  ) {}

  get done(): boolean {
    return this.index >= this.atoms.length;
  }

  peek(offset = 0): Atom | undefined {
    return this.atoms[this.index + offset];
  }

  next(): Atom | undefined {
    return this.atoms[this.index++];
  }

  /** Consumes a name if it is one of `words` (case-insensitive). */
  acceptWord(...words: string[]): Atom | undefined {
    const atom = this.peek();
    if (atom?.kind === "name" && words.some((w) => w.toLowerCase() === atom.text.toLowerCase())) return this.next();
    return undefined;
  }

  accept(text: string): Atom | undefined {
    return this.peek()?.text === text ? this.next() : undefined;
  }

  private here(): Span {
    const atom = this.peek();
    if (atom) return atom.span;
    const last = this.atoms[this.atoms.length - 1];
    return last ? spanOf(last.span.end, last.span.end + 1) : this.anchor;
  }

  fail(expected: string, help?: string): undefined {
    const atom = this.peek();
    this.diagnostics.push(
      diagnostic("EFF2004", { name: this.owner, expected, found: describeAtom(atom) }, this.here(), { help }),
    );
    this.index = this.atoms.length; // one report per entry: the rest would only cascade
    return undefined;
  }

  expectNumber(expected: string, valid: (x: number) => boolean = () => true, help?: string): number | undefined {
    const atom = this.peek();
    const value = isPlainNumber(atom) ? numberValue(atom) : undefined;
    if (value === undefined || !valid(value)) return this.fail(expected, help);
    this.next();
    return value;
  }

  expectQuantity(expected: string): number | undefined {
    const value = numberValue(this.peek());
    if (value === undefined || value <= 0) return this.fail(expected);
    this.next();
    return value;
  }

  expectInteger(expected: string, min = 1): number | undefined {
    return this.expectNumber(expected, (x) => Number.isInteger(x) && x >= min);
  }

  expectName(expected: string, choices?: readonly string[]): Atom | undefined {
    const atom = this.peek();
    if (atom?.kind !== "name" || (choices && !choices.some((c) => c.toLowerCase() === atom.text.toLowerCase()))) {
      const help = choices && atom ? closestHelp(atom.text, choices) : undefined;
      return this.fail(expected, help);
    }
    return this.next();
  }

  /** `1, 9` or `1 9`: a list of integers. */
  expectIntegerList(expected: string): number[] | undefined {
    const values: number[] = [];
    do {
      const v = this.expectInteger(expected);
      if (v === undefined) return undefined;
      values.push(v);
    } while (this.accept(",") || isPlainNumber(this.peek()));
    return values;
  }

  /** Reports leftover arguments as one diagnostic spanning them all. */
  expectEnd(): void {
    if (this.done) return;
    const rest = this.atoms.slice(this.index);
    this.diagnostics.push(
      diagnostic(
        "EFF2004",
        { name: this.owner, expected: "nothing more on this line", found: `\`${atomsText(rest)}\`` },
        spanOfAtoms(rest, this.anchor),
        {
          help: rest[0].kind === "header" ? "comments start with `# ` (a hash and a space)" : undefined,
        },
      ),
    );
    this.index = this.atoms.length;
  }
}

function closestHelp(word: string, choices: readonly string[]): string | undefined {
  return didYouMean(word, choices) ?? `one of ${choices.map((c) => `\`${c}\``).join(", ")}`;
}
