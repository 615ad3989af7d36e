/**
 * Line layout of the emitted modules, so that they come out as prettier would print them
 * (the project's .prettierrc.json, which test/codegen/prettier.test.ts applies: print width 120, two
 * spaces, trailing commas) without running prettier, which was three quarters of
 * `effnet compile`'s time. Only the few shapes the emitter writes are laid out here, by
 * the rules prettier applies to them (prettier's printMemberChain and printAssignment):
 *
 *  - a statement that fits in PRINT_WIDTH stays on one line;
 *  - `tf.layers.kind({...}).apply(x)`, two calls on a member chain, breaks before each
 *    call, the object on its own line if that fits, else one field per line;
 *  - any other call with an object argument keeps `({` on the first line and puts one
 *    field per line ("hugging" the last argument);
 *  - an object literal (or object type) breaks into one field per line when its line is too long.
 *
 * test/codegen/prettier.test.ts runs prettier over every shipped module, in both dialects
 * and the `.d.ts`, and fails if it changes a byte.
 */
export const PRINT_WIDTH = 120;

/** `text` split at top-level occurrences of `separator` (not inside brackets or string literals). */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i).trim());
      start = i + separator.length;
    }
  }
  const last = text.slice(start).trim();
  return last ? [...parts, last] : parts;
}

/** The index of the bracket that closes the one at `open`. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch) && --depth === 0) return i;
  }
  throw new Error(`codegen: unbalanced brackets in ${text}`);
}

/** An object literal's fields (`{ a: 1, b: [1, 2] }` → `a: 1`, `b: [1, 2]`), or an object type's (`;`-separated). */
const objectFields = (object: string, separator: string) => splitTopLevel(object.slice(1, -1), separator);

/** One field per line at `indent` + 2, each ending in `terminator`, then the closing brace at `indent`. */
function expanded(fields: readonly string[], indent: string, terminator: string): string {
  return `{\n${fields.map((f) => `${indent}  ${f}${terminator}\n`).join("")}${indent}}`;
}

/**
 * `indent + head + object + tail` (an object literal or type whose text is `{ ... }` on one
 * line) as prettier prints it: on one line when it fits, else one field per line.
 */
export function objectLine(indent: string, head: string, object: string, tail: string, terminator = ","): string {
  const flat = `${indent}${head}${object}${tail}`;
  if (flat.length <= PRINT_WIDTH || object === "{}") return flat;
  return `${indent}${head}${expanded(objectFields(object, terminator), indent, terminator)}${tail}`;
}

/**
 * A statement `indent + head + expression + ";"` whose expression is one line of the
 * shapes the emitter writes: `callee({ ... })` followed by anything (`.apply(x) as T`).
 */
export function statementLines(indent: string, head: string, expression: string): string {
  const flat = `${indent}${head}${expression};`;
  const open = expression.indexOf("({");
  if (flat.length <= PRINT_WIDTH || open < 0) return flat;
  const close = closingBracket(expression, open);
  const callee = expression.slice(0, open);
  const object = expression.slice(open + 1, close);
  const rest = expression.slice(close + 1);
  const member = callee.lastIndexOf(".");
  // A member chain with a second call (`tf.layers.kind({...}).apply(x)`): break before each call.
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(callee) && /^\.[A-Za-z_$][\w$]*\(/.test(rest)) {
    const inner = `${indent}  `;
    const call = objectLine(inner, `${callee.slice(member)}(`, object, ")");
    return `${indent}${head}${callee.slice(0, member)}\n${call}\n${inner}${rest};`;
  }
  return objectLine(indent, `${head}${callee}(`, object, `)${rest};`);
}

/**
 * `indent + "if (" + condition + ") " + statement`: on one line when it fits, else the
 * statement on the next line, indented (and laid out there by statementLines).
 */
export function ifLines(indent: string, condition: string, statement: string): string {
  const flat = `${indent}if (${condition}) ${statement}`;
  if (flat.length <= PRINT_WIDTH) return flat;
  const body = statement.replace(/;$/, "");
  const space = body.indexOf(" ");
  return `${indent}if (${condition})\n${statementLines(`${indent}  `, body.slice(0, space + 1), body.slice(space + 1))}`;
}
