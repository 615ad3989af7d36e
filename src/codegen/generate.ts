import { readdirSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import { format, type Options } from "prettier";
import type { Compilation, CompiledVariant } from "../compile.ts";
import { emitModule, moduleFileStem, type ModuleInfo } from "./emit.ts";

/**
 * Compilation → formatted TypeScript modules, one per variant, at
 * `<outDir>/<network>/<variant>.ts` (lower-cased: `generated/efficientnet/b0.ts`).
 * Byte-for-byte deterministic: no timestamps, a fixed prettier configuration that does
 * not read any .prettierrc, and input order only from the spec.
 */

/** Where `effnet compile` writes by default, and where the checked-in modules live. */
export const DEFAULT_OUT_DIR = "generated";

/** The specs whose modules are checked in under generated/ (every spec in specs/). */
export const SHIPPED_SPECS_DIR = "specs";

/**
 * Fixed formatting, written out in full rather than relying on prettier's defaults, so a
 * prettier upgrade that changes a default shows up as a diff here, not in generated/.
 */
export const PRETTIER_OPTIONS: Options = {
  parser: "typescript",
  printWidth: 120,
  tabWidth: 2,
  useTabs: false,
  semi: true,
  singleQuote: false,
  quoteProps: "as-needed",
  trailingComma: "all",
  bracketSpacing: true,
  arrowParens: "always",
  endOfLine: "lf",
};

export interface GeneratedModule {
  readonly path: string;
  readonly content: string;
  readonly variant: string;
}

/** A path as generated headers show it: relative to `cwd` when inside it, always `/`-separated. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  const shown = rel && !rel.startsWith("..") ? rel : path;
  return shown.split(sep).join(posix.sep);
}

export function moduleInfo(compiled: CompiledVariant, sourcePath: string): ModuleInfo {
  const { variant } = compiled;
  return {
    sourcePath,
    coefficients: {
      width: variant.width,
      depth: variant.depth,
      resolution: variant.resolution,
      ...(variant.phi === undefined ? {} : { phi: variant.phi }),
    },
    // The spec's `rounding keras|torchvision` preset names the reference convention, initialisation included.
    initialization: compiled.scaled.spec.rounding,
  };
}

export function formatModule(code: string): Promise<string> {
  return format(code, PRETTIER_OPTIONS);
}

/** The modules for every variant of a successful compilation, formatted. */
export async function generateModules(
  compilation: Compilation,
  options: { outDir?: string; sourcePath?: string } = {},
): Promise<GeneratedModule[]> {
  if (!compilation.ok || !compilation.spec) throw new Error("codegen: the compilation has errors; nothing to generate");
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  const sourcePath = options.sourcePath ?? displayPath(compilation.file.path);
  const folder = moduleFileStem(compilation.spec.name);
  const modules: GeneratedModule[] = [];
  for (const compiled of compilation.variants) {
    const code = emitModule(compiled.ir, compiled.cost, moduleInfo(compiled, sourcePath));
    modules.push({
      path: join(outDir, folder, `${moduleFileStem(compiled.variant.name)}.ts`),
      content: await formatModule(code),
      variant: compiled.variant.name,
    });
  }
  return modules;
}

/** The shipped specs, sorted, as paths relative to the repository root (`specs/efficientnet.effnet`). */
export function shippedSpecs(root: string): string[] {
  return readdirSync(join(root, SHIPPED_SPECS_DIR))
    .filter((f) => f.endsWith(".effnet"))
    .sort()
    .map((f) => posix.join(SHIPPED_SPECS_DIR, f));
}
