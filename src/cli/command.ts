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
import type { Invocation, Io } from "./invocation.ts";

// In a module of their own so that src/cli/main.ts can use them without loading the compiler.
export { EXIT, UsageError } from "./exit.ts";
export { checkChoice, Invocation, NUMBER_RULES, type Io, type NumberRule } from "./invocation.ts";

export interface OptionDef {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  readonly value?: string;
  readonly description: string;
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

/** Writes every file or none, printing the EFF0003 of a failure; whether the files were written. */
export function writeOutputs(files: readonly FileToWrite[], io: Io): boolean {
  return reported(writeFilesAtomically(files), io);
}

/**
 * Rolls back what a killed write left in these directories (src/files/write.ts), for a command
 * that compares its outputs with what is on disk before writing, printing the EFF0003 of a
 * failure; whether the directories are clean.
 */
export function recoverOutputs(dirs: Iterable<string>, io: Io): boolean {
  const failed = writeDiagnostics(() => {
    for (const dir of dirs) recoverInterruptedWrites(dir);
  });
  return reported(failed, io);
}

const reported = (failed: readonly Diagnostic[], io: Io) => {
  reportDiagnostics(failed, undefined, io, false);
  return failed.length === 0;
};

function writeDiagnostics(write: () => void): Diagnostic[] {
  try {
    write();
    return [];
  } catch (e) {
    if (e instanceof CollidingOutputsError) return [diagnostic("EFF0012", { path: e.second, first: e.first })];
    if (e instanceof WriteError) return [diagnostic("EFF0003", { path: e.path, reason: fsReason(e.reason) })];
    throw e;
  }
}

/** Seconds as m:ss, or h:mm:ss past an hour: elapsed time and ETA in progress lines. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** --json, for the commands whose whole output is one JSON document. */
export const JSON_OPTION: Record<string, OptionDef> = {
  json: { type: "boolean", description: "print one JSON document on stdout" },
};

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
