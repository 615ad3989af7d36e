/**
 * Display width of text in a terminal, a monospace table or an aligned spec table: one
 * column per code point, none for combining marks (the hats of Table 1's `F̂i`) or for
 * ANSI colour escapes. The one definition, used by the spec printer, the terminal tables
 * and the Markdown tables, so that all three align the same text the same way. (East Asian
 * wide characters would take two columns; nothing effnet prints uses them.)
 */
export function displayWidth(text: string): number {
  // Printable ASCII, nearly every cell of a report: one column per character.
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const _ of text.replace(ANSI_ESCAPE, "").replace(COMBINING_MARK, "")) width++;
  return width;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const COMBINING_MARK = /\p{M}/gu;
// The escapes the terminal renderer colours with: CSI … m.
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;
