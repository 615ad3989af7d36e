/**
 * A source file and the spans that point into it. Offsets are UTF-16 code-unit
 * indices into `text` (what chevrotain reports); lines and columns are 1-based and
 * computed on demand, so spans stay two numbers wide.
 */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** Half-open range [start, end) of offsets into one source file. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Position {
  readonly line: number;
  readonly column: number;
}

export function spanOf(start: number, end: number): Span {
  return { start, end: Math.max(start, end) };
}

export function joinSpans(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

const lineStartsCache = new WeakMap<SourceFile, number[]>();

function lineStarts(file: SourceFile): number[] {
  let starts = lineStartsCache.get(file);
  if (!starts) {
    starts = [0];
    for (let i = 0; i < file.text.length; i++) if (file.text[i] === "\n") starts.push(i + 1);
    lineStartsCache.set(file, starts);
  }
  return starts;
}

export function positionAt(file: SourceFile, offset: number): Position {
  const starts = lineStarts(file);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

export function lineText(file: SourceFile, line: number): string {
  const starts = lineStarts(file);
  const start = starts[line - 1] ?? file.text.length;
  const end = line < starts.length ? starts[line] - 1 : file.text.length;
  return file.text.slice(start, end).replace(/\r$/, "");
}
