import type { Diagnostic } from "./diagnostic.ts";
import { lineText, positionAt, type SourceFile, type Span } from "./source.ts";

export interface RenderOptions {
  readonly color?: boolean;
  /** Render at most this many (in order), then one line saying how many more there are. */
  readonly limit?: number;
}

/**
 * The most diagnostics the CLI prints per file. A file of garbage yields one per bad token
 * (400 KB of them made 99,938 diagnostics, whose rendering, each with its source line, took
 * V8 past 4 GB and aborted); nobody reads past the first hundred. `--json` keeps them all.
 */
export const MAX_DIAGNOSTICS_SHOWN = 100;

const ANSI = { red: "\x1b[31;1m", yellow: "\x1b[33;1m", blue: "\x1b[34;1m", bold: "\x1b[1m", reset: "\x1b[0m" };

/**
 * Renders one diagnostic the way rustc and codespan do: a header with the code, the
 * `file:line:col` location, the source line, and a caret run under the span; related
 * spans follow with `-` underlines; `= help:` last. Plain text unless `color` is set, so
 * CI logs and golden files read the same.
 */
export function renderDiagnostic(d: Diagnostic, file: SourceFile | undefined, options: RenderOptions = {}): string {
  const paint = (style: keyof typeof ANSI, s: string) => (options.color ? `${ANSI[style]}${s}${ANSI.reset}` : s);
  const severityStyle = d.severity === "error" ? "red" : "yellow";
  const out: string[] = [`${paint(severityStyle, `${d.severity}[${d.code}]`)}${paint("bold", `: ${d.message}`)}`];
  if (file && d.span) {
    const snippets = [
      { span: d.span, label: d.label ?? "", primary: true },
      ...d.related.map((r) => ({ span: r.span, label: r.message, primary: false })),
    ];
    const lines = snippets.map((s) => positionAt(file, s.span.start).line);
    const gutter = String(Math.max(...lines)).length;
    const pad = " ".repeat(gutter);
    const start = positionAt(file, d.span.start);
    out.push(`${pad}${paint("blue", "-->")} ${file.path}:${start.line}:${start.column}`);
    out.push(`${pad} ${paint("blue", "|")}`);
    // Source lines in file order, each printed once with the underlines of every span on it.
    const byLine = new Map<number, typeof snippets>();
    for (const s of snippets) {
      const line = positionAt(file, s.span.start).line;
      byLine.set(line, [...(byLine.get(line) ?? []), s]);
    }
    const ordered = [...byLine.entries()].sort((a, b) => a[0] - b[0]);
    ordered.forEach(([line, onLine], i) => {
      if (i > 0 && line > ordered[i - 1][0] + 1) out.push(`${paint("blue", "...")}`);
      const text = lineText(file, line);
      const sorted = [...onLine].sort((a, b) => a.span.start - b.span.start);
      const window = lineWindow(text, positionAt(file, sorted[0].span.start).column);
      out.push(`${paint("blue", `${String(line).padStart(gutter)} |`)} ${window.text}`);
      for (const s of sorted) {
        const column = positionAt(file, s.span.start).column;
        const width = caretWidth(file, s.span, line, text);
        const shift = window.start - window.prefix;
        const from = Math.max(column - 1 - shift, window.prefix);
        const marker = (s.primary ? "^" : "-").repeat(
          Math.max(1, Math.min(column - 1 + width - shift, window.text.length) - from),
        );
        const underline = `${" ".repeat(from)}${marker}${s.label ? ` ${s.label}` : ""}`;
        out.push(`${pad} ${paint("blue", "|")} ${paint(s.primary ? severityStyle : "blue", underline)}`);
      }
    });
    if (d.help) out.push(`${pad} ${paint("blue", "=")} ${paint("bold", "help:")} ${d.help}`);
  } else {
    if (file) out.push(`  --> ${file.path}`);
    if (d.help) out.push(`  = help: ${d.help}`);
  }
  return out.join("\n");
}

/** The widest source line printed whole; a longer one (a minified or garbage line) is cut around the first span on it. */
const MAX_LINE_SHOWN = 200;
/** How much of a cut line is shown before the span. */
const CONTEXT_BEFORE = 60;

/** The part of `text` printed: whole when short, else a window from `start` marked with `…` where cut (`prefix`: 1 when cut before). */
function lineWindow(text: string, column: number): { text: string; start: number; prefix: number } {
  if (text.length <= MAX_LINE_SHOWN) return { text, start: 0, prefix: 0 };
  const start = Math.max(0, Math.min(column - 1 - CONTEXT_BEFORE, text.length - MAX_LINE_SHOWN));
  const end = start + MAX_LINE_SHOWN;
  const prefix = start > 0 ? 1 : 0;
  return { text: `${prefix ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`, start, prefix };
}

/** The caret run covers the span, clipped to the end of its first line, at least one wide. */
function caretWidth(file: SourceFile, span: Span, line: number, text: string): number {
  const column = positionAt(file, span.start).column;
  const endOnLine = Math.min(span.end, span.start + (text.length - column + 1));
  return Math.max(1, endOnLine - span.start);
}

export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  file: SourceFile | undefined,
  options: RenderOptions = {},
): string {
  const limit = options.limit ?? Infinity;
  const shown = shownDiagnostics(diagnostics, limit).map((d) => renderDiagnostic(d, file, options));
  if (diagnostics.length > limit) shown.push(`... and ${notShown(diagnostics.length - limit)}`);
  return shown.join("\n\n");
}

/**
 * Which `limit` diagnostics are printed, in their order: the first of each code, so that every
 * kind of problem is shown once (a wrong variant's weights are 200 missing tensors and one
 * mis-shaped classifier), then the others as they come.
 */
function shownDiagnostics(diagnostics: readonly Diagnostic[], limit: number): readonly Diagnostic[] {
  if (diagnostics.length <= limit) return diagnostics;
  const codes = new Set<string>();
  const firsts = new Set(diagnostics.filter((d) => !codes.has(d.code) && codes.add(d.code)).slice(0, limit));
  let others = limit - firsts.size;
  return diagnostics.filter((d) => firsts.has(d) || others-- > 0);
}

const notShown = (n: number) => `${n} more not shown`;

/** "2 errors, 1 warning", and how many were not shown when rendering stopped at `shown`. */
export function summaryLine(diagnostics: readonly Diagnostic[], shown = diagnostics.length): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const part = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const hidden = diagnostics.length - Math.min(shown, diagnostics.length);
  return `${part(errors, "error")}, ${part(warnings, "warning")}${hidden > 0 ? ` (the first ${shown} shown, ${notShown(hidden)})` : ""}`;
}
