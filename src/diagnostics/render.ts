import type { Diagnostic } from "./diagnostic.ts";
import { lineText, positionAt, type SourceFile, type Span } from "./source.ts";

export interface RenderOptions {
  readonly color?: boolean;
}

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
      out.push(`${paint("blue", `${String(line).padStart(gutter)} |`)} ${text}`);
      for (const s of [...onLine].sort((a, b) => a.span.start - b.span.start)) {
        const column = positionAt(file, s.span.start).column;
        const marker = (s.primary ? "^" : "-").repeat(caretWidth(file, s.span, line, text));
        const underline = `${" ".repeat(column - 1)}${marker}${s.label ? ` ${s.label}` : ""}`;
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
  return diagnostics.map((d) => renderDiagnostic(d, file, options)).join("\n\n");
}

export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const part = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${part(errors, "error")}, ${part(warnings, "warning")}`;
}
