import { Lexer } from "chevrotain";
import { describe, expect, it } from "vitest";
import { EffnetParser } from "../../src/syntax/grammar.ts";
import { allTokens, LEXER_CONFIG } from "../../src/syntax/tokens.ts";

// chevrotain's own analysis, which the declared `line_breaks` flags save at start-up (not part of its public API).
const CHEVROTAIN_REG_EXP = "../../node_modules/chevrotain/lib/src/scan/reg_exp.js";
const { canMatchCharCode } = (await import(CHEVROTAIN_REG_EXP)) as {
  canMatchCharCode(charCodes: number[], pattern: RegExp): boolean;
};

// performSelfAnalysis throws on any definition error when validations run.
// The commands build the lexer and parser with chevrotain's validations skipped (they cost
// start-up time and depend only on the fixed grammar): here they run, so a grammar or token
// change that chevrotain would reject fails the tests instead of going unnoticed.
describe("grammar validation", () => {
  it("the lexer's token definitions pass chevrotain's validations", () => {
    const lexer = new Lexer(allTokens, { ...LEXER_CONFIG, skipValidations: false });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });

  it("each token's declared line_breaks is what chevrotain's analysis of its pattern finds", () => {
    const lineTerminators = ["\r", "\n"].map((c) => c.charCodeAt(0));
    for (const t of allTokens.filter((t) => t.PATTERN instanceof RegExp && t.PATTERN !== Lexer.NA))
      expect([t.name, t.LINE_BREAKS]).toEqual([t.name, canMatchCharCode(lineTerminators, t.PATTERN as RegExp)]);
  });

  it("the parser's grammar passes chevrotain's validations", () => {
    expect(() => new EffnetParser({ validate: true })).not.toThrow();
  });
});
