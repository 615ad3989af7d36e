import { readFileSync, renameSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { compile, type Compilation, type CompileOptions } from "../compile.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { renderDiagnostics, summaryLine } from "../diagnostics/render.ts";
import type { SourceFile } from "../diagnostics/source.ts";
import { fsReason } from "../runtime/errors.ts";

// In a module of their own so that src/cli/main.ts can use them without loading the compiler.
export { EXIT, UsageError } from "./exit.ts";

export interface OptionDef {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  readonly value?: string;
  readonly description: string;
}

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly color: boolean;
  /** Whether stderr is a terminal, for progress lines that redraw themselves. */
  readonly interactive: boolean;
}

export interface Invocation {
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly io: Io;
}

/** One entry of the command table (src/cli/commands/index.ts). */
export interface CommandDef {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly details?: string;
  readonly positionals: { readonly min: number; readonly max: number };
  readonly options: Readonly<Record<string, OptionDef>>;
  readonly examples?: readonly string[];
  readonly run: (invocation: Invocation) => Promise<number>;
}

export function readSource(path: string): { file?: SourceFile; diagnostics: Diagnostic[] } {
  try {
    return { file: { path, text: readFileSync(path, "utf8") }, diagnostics: [] };
  } catch (e) {
    return { diagnostics: [diagnostic("EFF0001", { path, reason: fsReason(e) })] };
  }
}

export function reportDiagnostics(
  diagnostics: readonly Diagnostic[],
  file: SourceFile | undefined,
  io: Io,
  summary = true,
): void {
  if (diagnostics.length === 0) return;
  io.err(renderDiagnostics(diagnostics, file, { color: io.color }) + "\n");
  if (summary) io.err(`\n${file ? `${file.path}: ` : ""}${summaryLine(diagnostics)}\n`);
}

/** Reads and compiles a spec, printing its diagnostics to stderr. */
export function compileFile(
  path: string,
  options: CompileOptions,
  io: Io,
  printDiagnostics = true,
): { compilation?: Compilation; file?: SourceFile; diagnostics: readonly Diagnostic[] } {
  const source = readSource(path);
  if (!source.file) {
    if (printDiagnostics) reportDiagnostics(source.diagnostics, undefined, io, false);
    return { diagnostics: source.diagnostics };
  }
  const compilation = compile(source.file, options);
  if (printDiagnostics) reportDiagnostics(compilation.diagnostics, source.file, io);
  return { compilation, file: source.file, diagnostics: compilation.diagnostics };
}

/**
 * Writes all files or none: each goes to a temporary sibling first and is renamed into
 * place only when every one of them was written, so a failure never leaves a
 * half-written output.
 */
export function writeFilesAtomically(files: readonly { path: string; content: string }[]): Diagnostic[] {
  const temps: { temp: string; path: string }[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const temp = `${f.path}.${process.pid}.tmp`;
      writeFileSync(temp, f.content);
      temps.push({ temp, path: f.path });
    }
    for (const t of temps) renameSync(t.temp, t.path);
    return [];
  } catch (e) {
    for (const t of temps) rmSync(t.temp, { force: true });
    const err = e as NodeJS.ErrnoException;
    return [diagnostic("EFF0003", { path: err.path ?? files[0]?.path ?? "?", reason: fsReason(err) })];
  }
}

export function stringOption(invocation: Invocation, name: string): string | undefined {
  const v = invocation.options[name];
  return typeof v === "string" ? v : undefined;
}

export function listOption(invocation: Invocation, name: string): string[] {
  const v = invocation.options[name];
  if (v === undefined || typeof v === "boolean") return [];
  return (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Options every compiling command shares. */
export const VARIANT_OPTIONS: Record<string, OptionDef> = {
  variant: {
    type: "string",
    short: "v",
    multiple: true,
    value: "NAME",
    description: "only this variant (repeat or comma-separate for several); default: all",
  },
  "allow-huge": {
    type: "boolean",
    description: "build variants past the size limits (2,000 layers, 4,096 px, 10⁹ params, 10¹² MACs)",
  },
};
