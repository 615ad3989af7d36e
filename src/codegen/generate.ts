import { readdirSync } from "node:fs";
import { basename, dirname, join, posix, relative, resolve, sep } from "node:path";
import type { Compilation, CompiledVariant } from "../compile.ts";
import { emitDeclarations, emitModule, moduleFileStem, type Dialect, type ModuleInfo } from "./emit.ts";

/**
 * Compilation → modules, one per variant, at `<outDir>/<network>/<variant>.ts`
 * (lower-cased: `generated/efficientnet/b0.ts`), or `.js` with a `.d.ts` beside it.
 * Byte-for-byte deterministic: no timestamps, input order only from the spec, and no
 * absolute path: the header names the spec relative to the module (so the output is the
 * same wherever the project lies) and repeats the command that wrote it. The emitter lays
 * its text out as prettier would (src/codegen/layout.ts), so no formatter runs here.
 */

/** Where `effnet compile` writes by default, and where the checked-in modules live. */
export const DEFAULT_OUT_DIR = "generated";

/** The specs whose modules are checked in under generated/ (every spec in specs/). */
export const SHIPPED_SPECS_DIR = "specs";

export interface GeneratedModule {
  readonly path: string;
  readonly content: string;
  readonly variant: string;
}

/** How `effnet compile` was asked to generate, as its command line says it. */
export interface GenerateOptions {
  /** Where the modules go (`--out`, relative to `cwd` or absolute); default generated/. */
  readonly outDir?: string;
  /** `--emit`: TypeScript modules, or JavaScript with a `.d.ts` beside each; default `ts`. */
  readonly emit?: Dialect;
  /** `--variant` as given: only these variants were asked for. */
  readonly variants?: readonly string[];
  /** `--allow-huge` was given. */
  readonly allowHuge?: boolean;
  /** The directory the paths are relative to; default the process's. */
  readonly cwd?: string;
}

/** A path as commands show it: relative to `cwd` when inside it, always `/`-separated. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, resolve(cwd, path));
  const shown = rel && !rel.startsWith("..") ? rel : path;
  return shown.split(sep).join(posix.sep);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return !rel.startsWith("..") && !posix.isAbsolute(rel.split(sep).join(posix.sep));
}

/**
 * How a module names its spec: relative to the module's own folder when both lie in the
 * project (the current directory), as a relative import would (`../../specs/efficientnet.effnet`),
 * else by its file name alone, so no absolute path of the machine that compiled it is written.
 */
export function specSource(specPath: string, moduleDir: string, cwd = process.cwd()): string {
  const spec = resolve(cwd, specPath);
  const dir = resolve(cwd, moduleDir);
  if (!isInside(spec, cwd) || !isInside(dir, cwd)) return basename(spec);
  return relative(dir, spec).split(sep).join(posix.sep);
}

/** The command that writes the module again, repeating every option that shaped it (paths as `displayPath` shows them). */
export function regenerateCommand(specPath: string, options: GenerateOptions = {}): string[] {
  const cwd = options.cwd ?? process.cwd();
  return [
    "npx",
    "effnet",
    "compile",
    displayPath(specPath, cwd),
    ...(options.variants ?? []).flatMap((v) => ["--variant", v]),
    ...(options.allowHuge ? ["--allow-huge"] : []),
    ...(options.emit === "js" ? ["--emit", "js"] : []),
    ...out(options.outDir, cwd),
  ];
}

const out = (outDir: string | undefined, cwd: string): string[] => {
  const shown = outDir === undefined ? DEFAULT_OUT_DIR : displayPath(outDir, cwd);
  return shown === DEFAULT_OUT_DIR ? [] : ["--out", shown];
};

export function moduleInfo(compiled: CompiledVariant, source: string, command: readonly string[]): ModuleInfo {
  const { variant } = compiled;
  return {
    source,
    command,
    coefficients: {
      width: variant.width,
      depth: variant.depth,
      resolution: variant.resolution,
      ...(variant.phi === undefined ? {} : { phi: variant.phi }),
    },
    // The spec's `rounding keras|torchvision` preset names the reference convention, initialisation included.
  };
}

/** The files for every variant of a successful compilation: one `.ts`, or a `.js` and its `.d.ts`. */
export function generateModules(compilation: Compilation, options: GenerateOptions = {}): GeneratedModule[] {
  if (!compilation.ok || !compilation.spec) throw new Error("codegen: the compilation has errors; nothing to generate");
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  const specPath = compilation.file.path;
  const folder = join(outDir, moduleFileStem(compilation.spec.name));
  const info = (compiled: CompiledVariant) =>
    moduleInfo(compiled, specSource(specPath, folder, options.cwd), regenerateCommand(specPath, options));
  const modules: GeneratedModule[] = [];
  for (const compiled of compilation.variants) {
    const stem = join(folder, moduleFileStem(compiled.variant.name));
    const variant = compiled.variant.name;
    const { ir, cost } = compiled;
    if (options.emit === "js") {
      modules.push(
        { path: `${stem}.js`, content: emitModule(ir, cost, info(compiled), "js"), variant },
        { path: `${stem}.d.ts`, content: emitDeclarations(ir, cost, info(compiled)), variant },
      );
    } else modules.push({ path: `${stem}.ts`, content: emitModule(ir, cost, info(compiled)), variant });
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
