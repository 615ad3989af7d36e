import type { CstNode, IRecognitionException, IToken } from "chevrotain";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { positionAt, spanOf, type SourceFile, type Span } from "../diagnostics/source.ts";
import type { Atom, AtomKind, Block, Cell, Document, Entry, Row } from "./ast.ts";
import { parser } from "./grammar.ts";
import { effnetLexer, LCurly, RCurly } from "./tokens.ts";

export interface ParseResult {
  readonly document: Document;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Text to syntax tree. Lexing and parsing both recover (chevrotain's single-token
 * insertion/deletion and re-sync), so one run reports every syntax error; the tree is
 * built from whatever was recovered and is only trusted when there are no errors.
 */
export function parse(file: SourceFile): ParseResult {
  const lexed = effnetLexer.tokenize(file.text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) =>
    diagnostic(
      "EFF1001",
      { text: file.text.slice(e.offset, e.offset + e.length) },
      spanOf(e.offset, e.offset + e.length),
    ),
  );
  const tooDeep = firstTooDeep(lexed.tokens);
  if (tooDeep) {
    // The parser and every later pass recurse per block level; refuse before they overflow the stack.
    diagnostics.push(diagnostic("EFF1004", { limit: MAX_NESTING }, tokenSpan(tooDeep, file)));
    return { document: { entries: [], closingComments: [] }, diagnostics };
  }
  parser.input = lexed.tokens;
  const cst = parser.document();
  diagnostics.push(...parser.errors.map((e) => parseError(e, lexed.tokens, file)));
  const builder = new TreeBuilder(file, lexed.groups.comments ?? []);
  return { document: builder.document(cst), diagnostics };
}

function describeToken(token: IToken): string {
  if (token.tokenType.name === "EOF") return "the end of the file";
  if (token.tokenType.name === "Newline") return "the end of the line";
  return `\`${token.image}\``;
}

function tokenSpan(token: IToken, file: SourceFile): Span {
  if (token.tokenType.name === "EOF" || Number.isNaN(token.startOffset))
    return spanOf(file.text.length, file.text.length);
  return spanOf(token.startOffset, (token.endOffset ?? token.startOffset) + 1);
}

function parseError(e: IRecognitionException, tokens: IToken[], file: SourceFile): Diagnostic {
  const found = e.token;
  const expectedRCurly = /RCurly|`}`/.test(e.message);
  if (expectedRCurly && found.tokenType.name === "EOF") {
    const open = unmatchedOpenBrace(tokens);
    return diagnostic(
      "EFF1003",
      { found: "the end of the file" },
      open ? tokenSpan(open, file) : tokenSpan(found, file),
      {
        label: "opened here",
        help: "add a `}` on a line of its own to close it",
      },
    );
  }
  return diagnostic("EFF1002", { found: describeToken(found), expected: expectedFrom(e) }, tokenSpan(found, file), {
    help:
      found.image === "{"
        ? "a block opens at the end of an entry's line, e.g. `stages {`"
        : found.image === "}"
          ? "this `}` closes no block"
          : undefined,
  });
}

/** chevrotain's messages list the expected token labels; keep that list, drop the prose. */
function expectedFrom(e: IRecognitionException): string {
  const m =
    /Expecting:? (?:token of type )?-->\s*(.+?)\s*<--/s.exec(e.message) ??
    /one of these possible Token sequences:\s*(.+?)\s*but found/s.exec(e.message);
  if (!m) return "something else";
  const labels = [...new Set(m[1].match(/`[^`]+`|[a-z][\w -]*(?=\])|end of line|a name|a number/g) ?? [m[1]])];
  const named = labels.map((l) => (l === "EOF" ? "the end of the file" : l));
  return named.length > 1 ? `one of ${named.join(", ")}` : named[0];
}

/**
 * The deepest block nesting a spec may have. The language itself needs two levels
 * (`network { stages { … } }`); the limit leaves room and keeps recursion bounded.
 */
export const MAX_NESTING = 32;

/** The first `{` that opens a block deeper than MAX_NESTING, in one pass over the tokens. */
function firstTooDeep(tokens: IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === LCurly && ++depth > MAX_NESTING) return t;
    if (t.tokenType === RCurly) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function unmatchedOpenBrace(tokens: IToken[]): IToken | undefined {
  const stack: IToken[] = [];
  for (const t of tokens) {
    if (t.tokenType === LCurly) stack.push(t);
    else if (t.tokenType === RCurly) stack.pop();
  }
  return stack[0];
}

const ATOM_KINDS: Record<string, AtomKind> = {
  Identifier: "name",
  NumberLiteral: "number",
  Dimension: "shape",
  HeaderWord: "header",
  Rule: "rule",
};

/** The CST visitor: builds the syntax tree and attaches comments and blank lines. */
class TreeBuilder {
  private readonly comments: IToken[];
  private next = 0;

  constructor(
    private readonly file: SourceFile,
    comments: IToken[],
  ) {
    this.comments = [...comments].sort((a, b) => a.startOffset - b.startOffset);
  }

  document(cst: CstNode): Document {
    const entries = (cst.children.entry ?? []).map((n) => this.entry(n as CstNode));
    return { entries, closingComments: this.takeBefore(Infinity) };
  }

  private atom(token: IToken): Atom {
    return {
      kind: ATOM_KINDS[token.tokenType.name] ?? "symbol",
      text: token.image,
      span: spanOf(token.startOffset, token.endOffset! + 1),
    };
  }

  private tokens(node: CstNode, label: string): IToken[] {
    return ((node.children[label] ?? []) as IToken[]).filter(
      (t) => !t.isInsertedInRecovery && !Number.isNaN(t.startOffset),
    );
  }

  private nodeSpan(node: CstNode): Span {
    const loc = node.location;
    if (!loc || Number.isNaN(loc.startOffset)) return spanOf(0, 0);
    return spanOf(loc.startOffset, (loc.endOffset ?? loc.startOffset) + 1);
  }

  private trivia(span: Span) {
    const leading = this.takeBefore(span.start);
    const firstStart = leading.length ? this.leadingStart : span.start;
    const blankLineBefore = blankLineEndsAt(this.file.text, firstStart);
    const line = positionAt(this.file, span.start).line;
    const trailing = this.takeOnLine(line);
    return { leadingComments: leading, trailingComment: trailing, blankLineBefore };
  }

  private leadingStart = 0;

  private takeBefore(offset: number): string[] {
    const taken: string[] = [];
    while (this.next < this.comments.length && this.comments[this.next].startOffset < offset) {
      if (taken.length === 0) this.leadingStart = this.comments[this.next].startOffset;
      taken.push(this.comments[this.next++].image.trimEnd());
    }
    return taken;
  }

  private takeOnLine(line: number): string | undefined {
    const c = this.comments[this.next];
    if (c && positionAt(this.file, c.startOffset).line === line) {
      this.next++;
      return c.image.trimEnd();
    }
    return undefined;
  }

  private entry(node: CstNode): Entry {
    const span = this.nodeSpan(node);
    const trivia = this.trivia(span);
    const keyToken = this.tokens(node, "key")[0];
    const key = keyToken
      ? this.atom(keyToken)
      : { kind: "name" as const, text: "", span: spanOf(span.start, span.start) };
    const args = this.tokens(node, "args").map((t) => this.atom(t));
    const blockNode = node.children.block?.[0] as CstNode | undefined;
    return { kind: "entry", key, args, block: blockNode ? this.block(blockNode) : undefined, span, ...trivia };
  }

  private block(node: CstNode): Block {
    const open = this.tokens(node, "LCurly")[0];
    const closeToken = this.tokens(node, "RCurly")[0];
    const span = this.nodeSpan(node);
    const children = [...((node.children.row ?? []) as CstNode[]), ...((node.children.entry ?? []) as CstNode[])].sort(
      (a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0),
    );
    const items = children.map((child) => (child.name === "row" ? this.row(child) : this.entry(child)));
    const close = closeToken ? tokenSpan(closeToken, this.file) : spanOf(span.end, span.end);
    const closingComments = closeToken ? this.takeBefore(close.start) : [];
    const closeTrailingComment = closeToken
      ? this.takeOnLine(positionAt(this.file, closeToken.startOffset).line)
      : undefined;
    return {
      open: open ? tokenSpan(open, this.file) : spanOf(span.start, span.start + 1),
      close,
      items,
      closingComments,
      closeTrailingComment,
    };
  }

  private row(node: CstNode): Row {
    const span = this.nodeSpan(node);
    const cellNodes = (node.children.cell ?? []) as CstNode[];
    const pipes = [...this.tokens(node, "open"), ...this.tokens(node, "pipes")].sort(
      (a, b) => a.startOffset - b.startOffset,
    );
    const cells: Cell[] = cellNodes.map((cellNode, i) => {
      const atoms = this.tokens(cellNode, "atoms").map((t) => this.atom(t));
      const left = pipes[i];
      const right = pipes[i + 1];
      const cellSpan =
        atoms.length > 0
          ? spanOf(atoms[0].span.start, atoms[atoms.length - 1].span.end)
          : spanOf(left ? left.endOffset! + 1 : span.start, right ? right.startOffset : span.end);
      return { atoms, span: cellSpan };
    });
    return { kind: "row", cells, span, ...this.trivia(span) };
  }
}

/**
 * Whether the text before `offset` ends in a blank line (`\n`, spaces, `\n`, spaces), read
 * backwards from `offset`: a regex anchored at the end of `text.slice(0, offset)` scans the
 * whole prefix, once per entry, which made parsing quadratic in the number of rows.
 */
function blankLineEndsAt(text: string, offset: number): boolean {
  const skipSpaces = (i: number) => {
    while (i >= 0 && (text[i] === " " || text[i] === "\t" || text[i] === "\r")) i--;
    return i;
  };
  const lastBreak = skipSpaces(offset - 1);
  return text[lastBreak] === "\n" && text[skipSpaces(lastBreak - 1)] === "\n";
}
