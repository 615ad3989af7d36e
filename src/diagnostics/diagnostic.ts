import { DIAGNOSTICS, type ArgsOf, type Code, type Severity } from "./codes.ts";
import type { Span } from "./source.ts";

/** A note that points at a second place, e.g. the other cell of a bad resolution ratio. */
export interface Related {
  readonly span: Span;
  readonly message: string;
}

/** Diagnostics are data: the phases return them, the CLI renders them. */
export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  readonly span?: Span;
  readonly label?: string;
  readonly help?: string;
  readonly related: readonly Related[];
}

export interface DiagnosticExtras {
  label?: string;
  help?: string;
  related?: Related[];
}

export function diagnostic<C extends Code>(
  code: C,
  args: ArgsOf<C>,
  span?: Span,
  extras: DiagnosticExtras = {},
): Diagnostic {
  const spec = DIAGNOSTICS[code];
  return {
    code,
    severity: spec.severity,
    message: (spec.message as (a: ArgsOf<C>) => string)(args),
    span,
    label: extras.label,
    help: extras.help,
    related: extras.related ?? [],
  };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sorts by position so that a phase's errors read top to bottom. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => (a.span?.start ?? -1) - (b.span?.start ?? -1) || a.code.localeCompare(b.code));
}
