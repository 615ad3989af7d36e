/**
 * Everything the code generator writes that came from a spec goes through here, so no
 * name or string in a spec can change the meaning of the emitted module: strings become
 * JSON string literals, identifiers are rebuilt from a safe alphabet, numbers must be
 * finite, and comment text cannot close or leave its comment.
 */

/**
 * A JavaScript string literal for `value`. JSON.stringify escapes quotes, backslashes
 * and control characters; U+2028/U+2029 are legal inside JSON strings and (since
 * ES2019) inside JS string literals, but we escape them too so the output reads the same
 * in any editor and stays safe if someone copies a literal into a comment.
 */
export function stringLiteral(value: string): string {
  return JSON.stringify(value)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** A numeric literal; a NaN or infinity here is a bug upstream, never something to print. */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`codegen: refusing to emit the non-finite number ${value}`);
  return Object.is(value, -0) ? "0" : String(value);
}

export function shapeLiteral(shape: readonly number[]): string {
  return `[${shape.map(numberLiteral).join(", ")}]`;
}

/**
 * Text safe inside a comment of either kind: line terminators (including U+2028/U+2029,
 * which end a `//` comment in JS) become spaces, a star-slash cannot close a block comment, and
 * the result is quoted as a JSON string so a reader sees what the spec said.
 */
export function commentText(value: string): string {
  return stringLiteral(value.replace(/[\r\n\u2028\u2029]/g, " ")).replace(/\*\//g, "*\\/");
}

/** A plain word (a name, a relative path) as it is when it is harmless in a comment, else quoted by commentText. */
export function commentWord(value: string): string {
  return /^[A-Za-z0-9_.\/-]+$/.test(value) && !value.includes("*/") ? value : commentText(value);
}

/** Reserved words and the names the emitted module itself declares at module scope or in buildModel. */
const RESERVED = new Set([
  // ECMAScript reserved words, strict-mode and module-context ones, and TS's own keywords that cannot name a const.
  ...[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
  ],
  ...[
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
  ],
  ...[
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
  ],
  ...[
    "while",
    "with",
    "yield",
    "arguments",
    "eval",
    "undefined",
    "NaN",
    "Infinity",
    "globalThis",
    "as",
    "type",
    "any",
    "unknown",
    "never",
  ],
]);

/**
 * Allocates readable, unique, valid identifiers for layer names: `block2a_expand_conv`
 * stays as it is; anything outside [A-Za-z0-9_] becomes `_`, a leading digit gets a `_`
 * prefix, and clashes (with a reserved word, a name the module already uses, or another
 * layer) get a numeric suffix. The layer's real name is always emitted separately as a
 * string literal, so the identifier only has to be valid, not faithful.
 */
export class IdentifierPool {
  private readonly used = new Set<string>();

  constructor(taken: readonly string[] = []) {
    for (const name of taken) this.used.add(name);
  }

  allocate(name: string): string {
    let base = name.replace(/[^A-Za-z0-9_]/g, "_");
    if (base === "" || /^[0-9]/.test(base)) base = `_${base}`;
    let candidate = base;
    for (let n = 2; RESERVED.has(candidate) || this.used.has(candidate); n++) candidate = `${base}_${n}`;
    this.used.add(candidate);
    return candidate;
  }
}
