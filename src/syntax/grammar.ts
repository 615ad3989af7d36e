import { CstParser, type CstNode, type IToken } from "chevrotain";
import { allTokens, Atom, LCurly, Identifier, Newline, Pipe, RCurly } from "./tokens.ts";

/**
 * The grammar, pure (no semantic actions; chevrotain's advice): a document is entries;
 * an entry is a name, arguments and an optional block; a block holds entries and table
 * rows. `grammar/effnet.ebnf` is generated from this parser's serialized grammar.
 *
 *   document := (Newline | entry)*
 *   entry    := Identifier Atom* block?
 *   block    := "{" (Newline | row | entry)* "}"
 *   row      := "|" (cell "|")*
 *   cell     := Atom*
 */
export class EffnetParser extends CstParser {
  /**
   * `validate`: run chevrotain's grammar validations (ambiguities, left recursion, …) while
   * building. They depend only on this fixed grammar, so test/syntax/grammar-validation.test.ts
   * runs them once and every command skips them: a few milliseconds of each cold start.
   */
  constructor({ validate = false } = {}) {
    super(allTokens, { recoveryEnabled: true, nodeLocationTracking: "full", skipValidations: !validate });
    this.performSelfAnalysis();
  }

  public document = this.RULE("document", () => {
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(Newline) }, { ALT: () => this.SUBRULE(this.entry) }]);
    });
  });

  private entry = this.RULE("entry", () => {
    this.CONSUME(Identifier, { LABEL: "key" });
    this.MANY(() => this.CONSUME(Atom, { LABEL: "args" }));
    this.OPTION(() => this.SUBRULE(this.block));
  });

  private block = this.RULE("block", () => {
    this.CONSUME(LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.SUBRULE(this.row) },
        { ALT: () => this.SUBRULE(this.entry) },
      ]);
    });
    this.CONSUME(RCurly);
  });

  private row = this.RULE("row", () => {
    this.CONSUME(Pipe, { LABEL: "open" });
    this.MANY(() => {
      this.SUBRULE(this.cell);
      this.CONSUME2(Pipe, { LABEL: "pipes" });
    });
  });

  private cell = this.RULE("cell", () => {
    this.MANY(() => this.CONSUME(Atom, { LABEL: "atoms" }));
  });
}

/** One parser instance, reused: chevrotain parsers are built once and reset per input. */
export const parser = new EffnetParser();

export interface DocumentCst extends CstNode {}
export type { IToken };
