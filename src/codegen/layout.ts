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
 *  - an object literal (or object type) breaks into one field per line when its line is too
 *    long, and so, in turn, does a field's object or array or the object argument of a
 *    field's call;
 *  - an array of arrays (`[[0, 1], [0, 1]]`) always breaks, and with it all that holds it (mustBreak).
 *
 * test/codegen/prettier.test.ts runs prettier over every shipped module, in both dialects
 * and the `.d.ts`, and fails if it changes a byte.
 */
export const PRINT_WIDTH = 120;

/**
 * Walks `text` from `from`, skipping string literals, and calls `visit` with each index
 * outside them and the bracket depth there (counted from `from`, a closing bracket's own
 * index already outside it); stops when `visit` returns true and returns that index.
 */
function scan(text: string, from: number, visit: (i: number, depth: number) => boolean): number | undefined {
  let depth = 0;
  let quote = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (quote) {
      if (ch === BACKSLASH) i++;
      else if (ch === quote) quote = 0;
      continue;
    }
    if (ch === DOUBLE_QUOTE || ch === SINGLE_QUOTE || ch === BACKTICK) quote = ch;
    else if (ch === OPEN_PAREN || ch === OPEN_BRACKET || ch === OPEN_BRACE) depth++;
    else if (ch === CLOSE_PAREN || ch === CLOSE_BRACKET || ch === CLOSE_BRACE) depth--;
    if (visit(i, depth)) return i;
  }
  return undefined;
}

// Character codes, compared per character by scan (a string's `includes` per character was most of its time).
const [BACKSLASH, DOUBLE_QUOTE, SINGLE_QUOTE, BACKTICK, OPEN_PAREN, OPEN_BRACKET, OPEN_BRACE] = [..."\\\"'`([{"].map(
  (c) => c.charCodeAt(0),
);
const [CLOSE_PAREN, CLOSE_BRACKET, CLOSE_BRACE] = [...")]}"].map((c) => c.charCodeAt(0));

/** `text` split at top-level occurrences of `separator` (not inside brackets or string literals). */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  // A separator that is a bracket or a quote never splits: scan counts it as structure.
  const first = "([{)]}\"'`".includes(separator[0]) ? -1 : separator.charCodeAt(0);
  scan(text, 0, (i, depth) => {
    if (depth === 0 && i >= start && text.charCodeAt(i) === first && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i).trim());
      start = i + separator.length;
    }
    return false;
  });
  const last = text.slice(start).trim();
  return last ? [...parts, last] : parts;
}

/** The index of the bracket that closes the one at `open`. */
function closingBracket(text: string, open: number): number {
  const close = scan(text, open, (i, depth) => depth === 0 && ")]}".includes(text[i]));
  if (close === undefined) throw new Error(`codegen: unbalanced brackets in ${text}`);
  return close;
}

/**
 * Whether `code` holds an array that prettier always breaks, one element per line
 * (printArrayItems' "concisely printed" exception aside): two or more elements, all of
 * them arrays (or all objects) of two or more elements, such as `[[0, 1], [0, 1]]`.
 * Such an array breaks every group around it, so nothing that holds it stays on one line.
 */
export function mustBreak(code: string): boolean {
  for (let open = code.indexOf("["); open >= 0; open = code.indexOf("[", open + 1)) {
    if (open > 0 && /[\w$\])]/.test(code[open - 1])) continue; // an index (`inputs[0]`), not an array literal
    const elements = splitTopLevel(code.slice(open + 1, closingBracket(code, open)), ",");
    const kind = elements[0]?.[0];
    const nested = (e: string) => e[0] === kind && splitTopLevel(e.slice(1, -1), ",").length > 1;
    if ((kind === "[" || kind === "{") && elements.length > 1 && elements.every(nested)) return true;
  }
  return false;
}

/** An object literal's fields (`{ a: 1, b: [1, 2] }` → `a: 1`, `b: [1, 2]`), or an object type's (`;`-separated). */
const objectFields = (object: string, separator: string) => splitTopLevel(object.slice(1, -1), separator);

/** One field per line at `indent` + 2, each ending in `terminator`, then the closing brace at `indent`. */
function expanded(fields: readonly string[], indent: string, terminator: string): string {
  return `{\n${fields.map((f) => `${fieldLines(`${indent}  `, f, terminator)}\n`).join("")}${indent}}`;
}

/**
 * One field of an expanded object: on its line when it fits, else its value laid out in
 * turn, an object (`key: { ... }`) one field per line, a call with an object argument
 * (`key: f({ ... })`) hugging it.
 */
function fieldLines(indent: string, field: string, terminator: string): string {
  const flat = `${indent}${field}${terminator}`;
  const colon = field.indexOf(": ");
  if ((flat.length <= PRINT_WIDTH && !mustBreak(field)) || colon < 0) return flat;
  const head = field.slice(0, colon + 2);
  const value = field.slice(colon + 2);
  if (value.startsWith("[") && closingBracket(value, 0) === value.length - 1) {
    const elements = splitTopLevel(value.slice(1, -1), ",");
    return `${indent}${head}[\n${elements.map((e) => `${fieldLines(`${indent}  `, e, ",")}\n`).join("")}${indent}]${terminator}`;
  }
  if (value.startsWith("{") && closingBracket(value, 0) === value.length - 1)
    return objectLine(indent, head, value, terminator, terminator);
  const open = value.indexOf("({");
  if (open > 0 && value.endsWith(")") && closingBracket(value, open) === value.length - 1)
    return objectLine(indent, `${head}${value.slice(0, open + 1)}`, value.slice(open + 1, -1), `)${terminator}`);
  return flat;
}

/**
 * `indent + head + object + tail` (an object literal or type whose text is `{ ... }` on one
 * line) as prettier prints it: on one line when it fits, else one field per line.
 */
export function objectLine(indent: string, head: string, object: string, tail: string, terminator = ","): string {
  const flat = `${indent}${head}${object}${tail}`;
  if ((flat.length <= PRINT_WIDTH && !mustBreak(object)) || object === "{}") return flat;
  return `${indent}${head}${expanded(objectFields(object, terminator), indent, terminator)}${tail}`;
}

/**
 * A statement `indent + head + expression + ";"` whose expression is one line of the
 * shapes the emitter writes: `callee({ ... })` followed by anything (`.apply(x) as T`).
 */
export function statementLines(indent: string, head: string, expression: string): string {
  const flat = `${indent}${head}${expression};`;
  const open = expression.indexOf("({");
  if ((flat.length <= PRINT_WIDTH && !mustBreak(expression)) || open < 0) return flat;
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
