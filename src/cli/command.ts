import { compile, type Compilation, type CompileOptions } from "../compile.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { MAX_DIAGNOSTICS_SHOWN, renderDiagnostics, summaryLine } from "../diagnostics/render.ts";
import type { SourceFile } from "../diagnostics/source.ts";
import { FileTooLargeError, readBounded } from "../files/read.ts";
import {
  CollidingOutputsError,
  recoverInterruptedWrites,
  WriteError,
  writeAllOrNothing,
  type FileToWrite,
} from "../files/write.ts";
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
  /** stdout's width in columns when it is a terminal; absent for pipes and files. */
  readonly columns?: number;
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
  /** Options that contradict each other, in pairs: giving both is a usage error (exit 2), checked before `run`. */
  readonly conflicts?: readonly (readonly [string, string])[];
  /** Options that only mean something beside another (`images: "synthetic"`) or one value of it (`plot: "format=svg"`). */
  readonly needs?: Readonly<Record<string, string>>;
  readonly examples?: readonly string[];
  readonly run: (invocation: Invocation) => Promise<number>;
}

/**
 * The largest spec file effnet reads. Specs are a few kilobytes (EfficientNet's is 3 KB); the
 * bound is what stops `effnet check /dev/zero` or a mistyped multi-gigabyte path from reading
 * without end, and it is checked while reading, so devices and pipes are bounded too.
 */
export const MAX_SPEC_BYTES = 16 * 1024 * 1024;

export function readSource(path: string): { file?: SourceFile; diagnostics: Diagnostic[] } {
  try {
    return { file: { path, text: readBounded(path, MAX_SPEC_BYTES).toString("utf8") }, diagnostics: [] };
  } catch (e) {
    if (e instanceof FileTooLargeError)
      return { diagnostics: [diagnostic("EFF0010", { path, limit: `${MAX_SPEC_BYTES / 1024 / 1024} MiB` })] };
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
  io.err(renderDiagnostics(diagnostics, file, { color: io.color, limit: MAX_DIAGNOSTICS_SHOWN }) + "\n");
  if (summary) io.err(`\n${file ? `${file.path}: ` : ""}${summaryLine(diagnostics, MAX_DIAGNOSTICS_SHOWN)}\n`);
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

/** Writes every file or none (src/files/write.ts); a failure is one EFF0003 naming the file. */
export function writeFilesAtomically(files: readonly FileToWrite[]): Diagnostic[] {
  return writeDiagnostics(() => writeAllOrNothing(files));
}

/**
 * Rolls back what a killed write left in these directories (src/files/write.ts), for a command
 * that compares its outputs with what is on disk before writing; a failure is one EFF0003.
 */
export function recoverOutputs(dirs: Iterable<string>): Diagnostic[] {
  return writeDiagnostics(() => {
    for (const dir of dirs) recoverInterruptedWrites(dir);
  });
}

function writeDiagnostics(write: () => void): Diagnostic[] {
  try {
    write();
    return [];
  } catch (e) {
    if (e instanceof CollidingOutputsError)
      return [
        diagnostic("EFF0003", {
          path: e.second,
          reason:
            e.first === e.second
              ? "two outputs go to this one file (two specs with the same network name?); nothing was written"
              : `it is the same file as ${e.first}; nothing was written`,
        }),
      ];
    if (e instanceof WriteError) return [diagnostic("EFF0003", { path: e.path, reason: fsReason(e.reason) })];
    throw e;
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
