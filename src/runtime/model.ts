import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { basename, dirname, join } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import type { CompiledVariant } from "../compile.ts";
import { emitModule, moduleFileStem } from "../codegen/emit.ts";
import { moduleInfo } from "../codegen/generate.ts";

/** What every generated module exports (src/codegen/emit.ts writes them). */
export interface BuildOptions {
  readonly classes?: number;
  readonly resolution?: number;
  readonly dropout?: number;
  readonly includeTop?: boolean;
  /** Seed of the initial weights and the dropout masks; the same seed builds bit-identical weights. */
  readonly seed?: number;
}

export interface ModelMetadata {
  readonly network: string;
  readonly variant: string;
  readonly source: string;
  readonly coefficients: {
    readonly width: number;
    readonly depth: number;
    readonly resolution: number;
    readonly phi: number | null;
  };
  readonly resolution: number;
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly dropout: number;
  readonly params: { readonly total: number; readonly trainable: number; readonly nonTrainable: number };
  readonly macs: number;
  readonly flops: number;
  readonly layers: number;
  /** src/semantics/conventions.ts: what the model computes beyond its shapes. */
  readonly convention: {
    readonly name: string;
    readonly padding: string;
    readonly preprocessing: string;
    readonly output: "logits" | "probabilities";
  };
  /** The initialisation convention (src/codegen/initialization.ts). */
  readonly initialization: string;
}

export interface GeneratedModelModule {
  readonly buildModel: (options?: BuildOptions) => tf.LayersModel;
  readonly metadata: ModelMetadata;
}

/**
 * Where emitted modules are cached for import: in the node_modules folder that holds the
 * @tensorflow/tfjs we use, so that the module's `import "@tensorflow/tfjs"` resolves to
 * the same tfjs instance (and backends and kernels) as ours, in a checkout as in an
 * installed package (where tfjs is hoisted beside effnet); a file under the OS temp
 * directory would find no tfjs at all.
 */
function cacheDir(): string {
  const tfjs = createRequire(import.meta.url).resolve("@tensorflow/tfjs/package.json");
  return join(dirname(dirname(dirname(tfjs))), ".cache", "effnet", "models");
}

/**
 * The generated module of one compiled variant, imported. The code is what
 * `effnet compile --emit js` writes (the same emitter, before formatting), so `train`,
 * `predict` and `bench-model` run the model a user would check in, for any spec, not only
 * the shipped ones, and plain Node imports it: no TypeScript loader at run time. Files are
 * named by the hash of their content: concurrent runs never clash and a stale file is
 * never picked up. `.mjs`, because Node treats files below node_modules/ as CommonJS
 * unless their extension says otherwise (the package scope stops there).
 */
export async function importVariantModule(
  compiled: CompiledVariant,
  sourcePath: string,
): Promise<GeneratedModelModule> {
  const info = moduleInfo(compiled, basename(sourcePath), ["npx", "effnet", "compile", sourcePath, "--emit", "js"]);
  const code = emitModule(compiled.ir, compiled.cost, info, "js");
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const dir = cacheDir();
  const path = join(dir, `${moduleFileStem(compiled.ir.network)}_${moduleFileStem(compiled.ir.variant)}_${hash}.mjs`);
  mkdirSync(dir, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, code);
  renameSync(temp, path);
  const url = pathToFileURL(path).href;
  const module = (await import(url)) as GeneratedModelModule;
  moduleUrls.set(module, url);
  return module;
}

const moduleUrls = new WeakMap<GeneratedModelModule, string>();

/** The file URL importVariantModule imported `module` from: what worker threads import to build its replicas (parallel.ts). */
export function variantModuleUrl(module: GeneratedModelModule): string | undefined {
  return moduleUrls.get(module);
}
