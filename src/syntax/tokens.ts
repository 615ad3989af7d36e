import { createToken, Lexer, type TokenType } from "chevrotain";

/**
 * The tokens of .effnet. The grammar is deliberately small and generic (entries,
 * blocks, table rows; see grammar.ts): the vocabulary (settings, columns, operators)
 * lives in tables in src/semantics and src/operators, so adding a setting or an operator
 * never touches the parser.
 *
 * `Atom` is the category of everything that may stand in an entry's arguments or a
 * table cell.
 */
/**
 * chevrotain rebuilds regex patterns without the `u` flag, so patterns that need
 * Unicode property classes are custom matchers around a sticky Unicode regex.
 */
function unicodePattern(source: string) {
  const re = new RegExp(source, "uy");
  return {
    exec(text: string, offset: number): RegExpExecArray | null {
      re.lastIndex = offset;
      return re.exec(text);
    },
  };
}

export const Atom = createToken({ name: "Atom", pattern: Lexer.NA });

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\uFEFF]+/, group: Lexer.SKIPPED });
export const Newline = createToken({ name: "Newline", pattern: /\n/, line_breaks: true, label: "end of line" });

// `#Channels` in a header row (Table 1 as printed) is a word; `# text` is a comment.
export const HeaderWord = createToken({
  name: "HeaderWord",
  pattern: unicodePattern("#[\\p{L}_][\\p{L}\\p{M}\\p{N}_]*"),
  line_breaks: false,
  categories: [Atom],
  label: "`#Word`",
});
export const Comment = createToken({ name: "Comment", pattern: /#[^\n]*/, group: "comments" });

export const LCurly = createToken({ name: "LCurly", pattern: /\{/, label: "`{`" });
export const RCurly = createToken({ name: "RCurly", pattern: /\}/, label: "`}`" });
export const Pipe = createToken({ name: "Pipe", pattern: /\|/, label: "`|`" });

// A Markdown table rule (`|---|:--:|`) may separate the header from the rows.
// Two or more dashes, or dashes with an alignment colon; a lone `-` is a Dash (below).
export const Rule = createToken({ name: "Rule", pattern: /:-+:?|-+:|-{2,}/, categories: [Atom], label: "`---`" });
export const PlusMinus = createToken({ name: "PlusMinus", pattern: /\+-|±/, categories: [Atom], label: "`+-`" });
// 224x224, 224×224, 224x224x3: a shape, one token so that `x` never reads as a name.
export const Dimension = createToken({
  name: "Dimension",
  pattern: /\d+(?:[x×]\d+)+/,
  categories: [Atom],
  label: "a shape like `224x224`",
});
// 1000, 0.25, 1e-3, -2, and quantities with a unit suffix: 40G, 10M, the paper's 0.39B.
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[KMGBT]?/,
  categories: [Atom],
  label: "a number",
});
// Letters from any script: Table 1's header reads `Operator F̂i`, `Resolution Ĥi×Ŵi`. Dotted
// parts continue a name (`mobilenet_v2_1.0`, torchvision's variant names); only variant
// names accept them (semantics: VARIANT_NAME_PATTERN).
export const Identifier = createToken({
  name: "Identifier",
  pattern: unicodePattern("[\\p{L}_][\\p{L}\\p{M}\\p{N}_]*(?:\\.[\\p{L}\\p{M}\\p{N}_]+)*"),
  line_breaks: false,
  categories: [Atom],
  label: "a name",
});
// A lone `-` is an empty cell ("not applicable"), as the papers' tables print it.
export const Dash = createToken({ name: "Dash", pattern: /-/, categories: [Atom], label: "`-`" });
export const LessEqual = createToken({ name: "LessEqual", pattern: /<=|≤/, categories: [Atom], label: "`<=`" });
export const GreaterEqual = createToken({ name: "GreaterEqual", pattern: />=|≥/, categories: [Atom], label: "`>=`" });
export const Less = createToken({ name: "Less", pattern: /</, categories: [Atom], label: "`<`" });
export const Greater = createToken({ name: "Greater", pattern: />/, categories: [Atom], label: "`>`" });
export const Equals = createToken({ name: "Equals", pattern: /=/, categories: [Atom], label: "`=`" });
export const Comma = createToken({ name: "Comma", pattern: /,/, categories: [Atom], label: "`,`" });
export const Ampersand = createToken({ name: "Ampersand", pattern: /&/, categories: [Atom], label: "`&`" });
export const Star = createToken({ name: "Star", pattern: /\*/, categories: [Atom], label: "`*`" });
export const Caret = createToken({ name: "Caret", pattern: /\^/, categories: [Atom], label: "`^`" });
export const Times = createToken({ name: "Times", pattern: /×/, categories: [Atom], label: "`×`" });
export const Slash = createToken({ name: "Slash", pattern: /\//, categories: [Atom], label: "`/`" });
export const Colon = createToken({ name: "Colon", pattern: /:/, categories: [Atom], label: "`:`" });
export const Percent = createToken({ name: "Percent", pattern: /%/, categories: [Atom], label: "`%`" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, categories: [Atom], label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, categories: [Atom], label: "`)`" });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Newline,
  HeaderWord,
  Comment,
  LCurly,
  RCurly,
  Pipe,
  Rule,
  PlusMinus,
  Dimension,
  NumberLiteral,
  Identifier,
  Dash,
  LessEqual,
  GreaterEqual,
  Less,
  Greater,
  Equals,
  Comma,
  Ampersand,
  Star,
  Caret,
  Times,
  Slash,
  Colon,
  Percent,
  LParen,
  RParen,
  Atom,
];

/**
 * The lexer's options. `safeMode`: chevrotain's first-character optimisation needs the
 * start characters of every pattern, and the two Unicode matchers above cannot give them
 * (any letter of any script), so the lexer could never use it; safe mode skips the
 * regular-expression analysis that would find this out at every start-up. `skipValidations`
 * as for the parser (see EffnetParser): test/syntax/grammar-validation.test.ts runs them.
 */
export const LEXER_CONFIG = { positionTracking: "full", safeMode: true } as const;
export const effnetLexer = new Lexer(allTokens, { ...LEXER_CONFIG, skipValidations: true });
