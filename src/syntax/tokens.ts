import { createToken, Lexer, type ITokenConfig, type TokenType } from "chevrotain";

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

/**
 * createToken with `line_breaks` declared, false unless a token says otherwise: without it
 * chevrotain parses every pattern at each start-up to find out whether it can match a line
 * terminator (`\r` or `\n`): WhiteSpace can match a `\r`, Newline is one (what that analysis finds,
 * test/syntax/grammar-validation.test.ts).
 */
const token = (config: ITokenConfig): TokenType => createToken({ line_breaks: false, ...config });

export const Atom = createToken({ name: "Atom", pattern: Lexer.NA });

export const WhiteSpace = token({
  name: "WhiteSpace",
  pattern: /[ \t\r\uFEFF]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const Newline = token({ name: "Newline", pattern: /\n/, line_breaks: true, label: "end of line" });

// `#Channels` in a header row (Table 1 as printed) is a word; `# text` is a comment.
export const HeaderWord = token({
  name: "HeaderWord",
  pattern: unicodePattern("#[\\p{L}_][\\p{L}\\p{M}\\p{N}_]*"),
  categories: [Atom],
  label: "`#Word`",
});
export const Comment = token({ name: "Comment", pattern: /#[^\n]*/, group: "comments" });

export const LCurly = token({ name: "LCurly", pattern: /\{/, label: "`{`" });
export const RCurly = token({ name: "RCurly", pattern: /\}/, label: "`}`" });
export const Pipe = token({ name: "Pipe", pattern: /\|/, label: "`|`" });

// A Markdown table rule (`|---|:--:|`) may separate the header from the rows.
// Two or more dashes, or dashes with an alignment colon; a lone `-` is a Dash (below).
export const Rule = token({ name: "Rule", pattern: /:-+:?|-+:|-{2,}/, categories: [Atom], label: "`---`" });
export const PlusMinus = token({ name: "PlusMinus", pattern: /\+-|±/, categories: [Atom], label: "`+-`" });
// 224x224, 224×224, 224x224x3: a shape, one token so that `x` never reads as a name.
export const Dimension = token({
  name: "Dimension",
  pattern: /\d+(?:[x×]\d+)+/,
  categories: [Atom],
  label: "a shape like `224x224`",
});
// 1000, 0.25, 1e-3, -2, and quantities with a unit suffix: 40G, 10M, the paper's 0.39B.
export const NumberLiteral = token({
  name: "NumberLiteral",
  pattern: /[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[KMGBT]?/,
  categories: [Atom],
  label: "a number",
});
// Letters from any script: Table 1's header reads `Operator F̂i`, `Resolution Ĥi×Ŵi`. Dotted
// parts continue a name (`mobilenet_v2_1.0`, torchvision's variant names); only variant
// names accept them (semantics: VARIANT_NAME_PATTERN).
export const Identifier = token({
  name: "Identifier",
  pattern: unicodePattern("[\\p{L}_][\\p{L}\\p{M}\\p{N}_]*(?:\\.[\\p{L}\\p{M}\\p{N}_]+)*"),
  categories: [Atom],
  label: "a name",
});
// A lone `-` is an empty cell ("not applicable"), as the papers' tables print it.
export const Dash = token({ name: "Dash", pattern: /-/, categories: [Atom], label: "`-`" });
export const LessEqual = token({ name: "LessEqual", pattern: /<=|≤/, categories: [Atom], label: "`<=`" });
export const GreaterEqual = token({ name: "GreaterEqual", pattern: />=|≥/, categories: [Atom], label: "`>=`" });
export const Less = token({ name: "Less", pattern: /</, categories: [Atom], label: "`<`" });
export const Greater = token({ name: "Greater", pattern: />/, categories: [Atom], label: "`>`" });
export const Equals = token({ name: "Equals", pattern: /=/, categories: [Atom], label: "`=`" });
export const Comma = token({ name: "Comma", pattern: /,/, categories: [Atom], label: "`,`" });
export const Ampersand = token({ name: "Ampersand", pattern: /&/, categories: [Atom], label: "`&`" });
export const Star = token({ name: "Star", pattern: /\*/, categories: [Atom], label: "`*`" });
export const Caret = token({ name: "Caret", pattern: /\^/, categories: [Atom], label: "`^`" });
export const Times = token({ name: "Times", pattern: /×/, categories: [Atom], label: "`×`" });
export const Slash = token({ name: "Slash", pattern: /\//, categories: [Atom], label: "`/`" });
export const Colon = token({ name: "Colon", pattern: /:/, categories: [Atom], label: "`:`" });
export const Percent = token({ name: "Percent", pattern: /%/, categories: [Atom], label: "`%`" });
export const LParen = token({ name: "LParen", pattern: /\(/, categories: [Atom], label: "`(`" });
export const RParen = token({ name: "RParen", pattern: /\)/, categories: [Atom], label: "`)`" });

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
 * regular-expression analysis that would find this out at every start-up. `onlyOffset`:
 * lines and columns come from offsets (src/diagnostics/source.ts, positionAt), never from
 * chevrotain, which would count the `\r` of a CRLF line ending (in WhiteSpace) and its `\n`
 * (Newline) as two lines, and which analyses every pattern for line terminators at each
 * start-up to track them. `skipValidations` as for the parser (see EffnetParser):
 * test/syntax/grammar-validation.test.ts runs them.
 */
export const LEXER_CONFIG = { positionTracking: "full", safeMode: true } as const;
export const effnetLexer = new Lexer(allTokens, { ...LEXER_CONFIG, skipValidations: true });
