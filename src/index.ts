/**
 * effnet's library API (`import { compile, audit, report, emitModule } from "effnet"`):
 * the compiler as functions of values, what the CLI's commands are made of. It loads no
 * tfjs; the runtime (training, backends, saving and loading) is "effnet/runtime".
 */
import type { Compilation, CompiledVariant } from "./compile.ts";
import { emitDeclarations as emitDeclarationsOf, emitModule as emitModuleOf, type Dialect } from "./codegen/emit.ts";
import { moduleInfo } from "./codegen/generate.ts";
import { audit, type AuditOptions } from "./report/audit.ts";
import { renderReport } from "./report/outputs.ts";

export { compile, type Compilation, type CompiledVariant, type CompileOptions } from "./compile.ts";
export type { Diagnostic } from "./diagnostics/diagnostic.ts";
export type { SourceFile } from "./diagnostics/source.ts";
export { renderDiagnostics, summaryLine } from "./diagnostics/render.ts";
export { print } from "./syntax/print.ts";
export { audit, costsAreSound, type AuditDocument, type AuditOptions, type AuditVariant } from "./report/audit.ts";
export { renderAudit } from "./report/terminal.ts";
export { diffVariants, renderDiff, type DiffDocument } from "./report/diff.ts";
export { solve, parseBudget, type BudgetLimit, type Solution } from "./report/solve.ts";
export type { NetworkCost } from "./cost/cost.ts";
export type { NetworkIR, Layer } from "./ir/ir.ts";
export { generateModules, type GeneratedModule, type GenerateOptions } from "./codegen/generate.ts";
export type { Dialect } from "./codegen/emit.ts";
/** A compiled variant's module emitted as JavaScript and imported (it loads tfjs then): what `train` and `predict` run. */
export { importVariantModule } from "./codegen/import-module.ts";

/** A report as `effnet report --format` writes it: the audit as JSON (schema-checked), Markdown, or a single-file HTML page. */
export function report(compilation: Compilation, format: "json" | "md" | "html", options: AuditOptions = {}): string {
  return renderReport(audit(compilation, options), format);
}

export interface EmitOptions {
  /** TypeScript (default) or JavaScript; a `js` module's types come from emitDeclarations. */
  readonly dialect?: Dialect;
  /** How the header and `metadata.source` name the spec (default: the compilation's path as given). */
  readonly source?: string;
}

const infoOf = (compiled: CompiledVariant, source: string) =>
  moduleInfo(compiled, source, ["npx", "effnet", "compile", source]);

/**
 * One variant's tfjs module as text, `export const metadata` and `export function buildModel`
 * (generateModules also names the files as `effnet compile` does).
 */
export function emitModule(compilation: Compilation, variant: string, options: EmitOptions = {}): string {
  const compiled = variantOf(compilation, variant);
  return emitModuleOf(
    compiled.ir,
    compiled.cost,
    infoOf(compiled, options.source ?? compilation.file.path),
    options.dialect,
  );
}

/** The `.d.ts` that types a variant's `js` module. */
export function emitDeclarations(
  compilation: Compilation,
  variant: string,
  options: Omit<EmitOptions, "dialect"> = {},
): string {
  const compiled = variantOf(compilation, variant);
  return emitDeclarationsOf(compiled.ir, compiled.cost, infoOf(compiled, options.source ?? compilation.file.path));
}

function variantOf(compilation: Compilation, name: string): CompiledVariant {
  const compiled = compilation.variants.find((v) => v.variant.name.toLowerCase() === name.toLowerCase());
  if (!compiled)
    throw new Error(
      `no compiled variant ${JSON.stringify(name)}${compilation.ok ? "" : " (the compilation has errors)"}; there are: ${compilation.variants.map((v) => v.variant.name).join(", ")}`,
    );
  return compiled;
}
