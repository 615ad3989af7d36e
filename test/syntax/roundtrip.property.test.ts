import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile.ts";
import type { Atom, Block, Cell, Document, Entry, Row } from "../../src/syntax/ast.ts";
import { parse } from "../../src/syntax/parse.ts";
import { print } from "../../src/syntax/print.ts";

/**
 * Property tests for the syntax: random documents print to text that parses back to the
 * same document (parse ∘ print = id, up to spans), printing is idempotent, and no input
 * at all makes the front end throw.
 */
const span = { start: 0, end: 0 };
const atom = (kind: Atom["kind"], text: string): Atom => ({ kind, text, span });

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).map((t) => atom("name", t));
const number = fc
  .oneof(
    fc.nat(100000).map(String),
    fc.tuple(fc.nat(999), fc.nat(999)).map(([a, b]) => `${a}.${b}`),
    fc.constantFrom("1e-3", "40G", "5.3M"),
  )
  .map((t) => atom("number", t));
const shape = fc
  .tuple(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 1, max: 999 }))
  .map(([h, w]) => atom("shape", `${h}x${w}`));
const symbol = fc.constantFrom(",", "&", "*", "=", "<=", "^", "+-", "-").map((t) => atom("symbol", t));
const header = fc.stringMatching(/^#[A-Z][a-z]{0,6}$/).map((t) => atom("header", t));
const anyAtom = fc.oneof(
  { weight: 4, arbitrary: name },
  { weight: 3, arbitrary: number },
  { weight: 1, arbitrary: shape },
  { weight: 2, arbitrary: symbol },
  { weight: 1, arbitrary: header },
);
const comment = fc.stringMatching(/^[a-z0-9 ,.]{0,20}$/).map((t) => `# ${t}`.trimEnd());
const trivia = fc.record({
  leadingComments: fc.array(comment, { maxLength: 2 }),
  trailingComment: fc.option(comment, { nil: undefined }),
  blankLineBefore: fc.boolean(),
});

const cell: fc.Arbitrary<Cell> = fc.array(anyAtom, { maxLength: 4 }).map((atoms) => ({ atoms, span }));
const row: fc.Arbitrary<Row> = fc
  .tuple(fc.array(cell, { minLength: 1, maxLength: 5 }), trivia)
  .map(([cells, t]) => ({ kind: "row", cells, span, ...t }));

const { entry } = fc.letrec<{ entry: Entry; block: Block }>((tie) => ({
  entry: fc
    .tuple(
      name,
      fc.array(anyAtom, { maxLength: 5 }),
      fc.option(tie("block"), { nil: undefined, depthSize: "small" }),
      trivia,
    )
    .map(([key, args, block, t]) => ({ kind: "entry", key, args, block, span, ...t })),
  block: fc
    .tuple(
      fc.array(fc.oneof(row, tie("entry") as fc.Arbitrary<Entry>), { maxLength: 4 }),
      fc.array(comment, { maxLength: 1 }),
      fc.option(comment, { nil: undefined }),
    )
    .map(([items, closingComments, closeTrailingComment]) => ({
      open: span,
      close: span,
      items: items.map((item, i) => (i === 0 ? { ...item, blankLineBefore: false } : item)),
      closingComments,
      closeTrailingComment,
    })),
}));

const document: fc.Arbitrary<Document> = fc
  .tuple(fc.array(entry, { minLength: 1, maxLength: 3 }), fc.array(comment, { maxLength: 2 }))
  .map(([entries, closingComments]) => ({
    entries: entries.map((e, i) => (i === 0 ? { ...e, blankLineBefore: false } : e)),
    closingComments,
  }));

/** The document as data, without spans. */
const shapeOf = (doc: Document) =>
  JSON.parse(JSON.stringify(doc, (k, v) => (k === "span" || k === "open" || k === "close" ? undefined : v)));

describe("syntax properties", () => {
  it("parse(print(doc)) = doc, up to spans", () => {
    fc.assert(
      fc.property(document, (doc) => {
        const text = print(doc);
        const reparsed = parse({ path: "p.effnet", text });
        expect(reparsed.diagnostics).toEqual([]);
        expect(shapeOf(reparsed.document)).toEqual(shapeOf(doc));
      }),
      { numRuns: 300 },
    );
  });

  it("printing is idempotent", () => {
    fc.assert(
      fc.property(document, (doc) => {
        const once = print(doc);
        expect(print(parse({ path: "p.effnet", text: once }).document)).toBe(once);
      }),
      { numRuns: 200 },
    );
  });

  it("no input makes the front end throw: arbitrary text gets diagnostics, never an exception", () => {
    const alphabet = fc.constantFrom(
      ..."network stages variants scaling { } | # \n 224x224 1.5 MBConv6, k3x3 & @ ^ * = +- ≤ × é".split(" "),
      "\n",
      " ",
      "|",
      "{",
      "}",
    );
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 80 }).map((parts) => parts.join(" ")),
        (text) => {
          const compilation = compile({ path: "fuzz.effnet", text });
          expect(Array.isArray(compilation.diagnostics)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
