import { Lexer } from "chevrotain";
import { describe, expect, it } from "vitest";
import { EffnetParser } from "../../src/syntax/grammar.ts";
import { allTokens, LEXER_CONFIG } from "../../src/syntax/tokens.ts";

// performSelfAnalysis throws on any definition error when validations run.
// The commands build the lexer and parser with chevrotain's validations skipped (they cost
// start-up time and depend only on the fixed grammar): here they run, so a grammar or token
// change that chevrotain would reject fails the tests instead of going unnoticed.
describe("grammar validation", () => {
  it("the lexer's token definitions pass chevrotain's validations", () => {
    const lexer = new Lexer(allTokens, { ...LEXER_CONFIG, skipValidations: false });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });

  it("the parser's grammar passes chevrotain's validations", () => {
    expect(() => new EffnetParser({ validate: true })).not.toThrow();
  });
});
