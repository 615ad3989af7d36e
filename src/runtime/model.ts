import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
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
  /** The initialisation convention (src/codegen/initialization.ts). */
  readonly initialization: string;
}

export interface GeneratedModelModule {
  readonly buildModel: (options?: BuildOptions) => tf.LayersModel;
  readonly metadata: ModelMetadata;
}

/**
 * Where emitted modules are cached for import: inside the package's node_modules, so the
 * module's `import "@tensorflow/tfjs"` resolves to the same tfjs instance (and backends
 * and kernels) as ours — a file under the OS temp directory would find no tfjs at all.
 */
const CACHE_DIR = fileURLToPath(new URL("../../node_modules/.cache/effnet/models/", import.meta.url));

/**
 * The generated module of one compiled variant, imported. The code is exactly what
 * `effnet compile` writes (the same emitter, before prettier), so `train`, `predict` and
 * `bench-model` run the model a user would check in, for any spec, not only the shipped
 * ones. Files are named by the hash of their content: concurrent runs never clash and a
 * stale file is never picked up. `.mts`, because Node treats files below node_modules/ as
 * CommonJS unless their extension says otherwise (the package scope stops there).
 * Importing TypeScript needs tsx's loader, which bin/effnet.js and vitest provide.
 */
export async function importVariantModule(
  compiled: CompiledVariant,
  sourcePath: string,
): Promise<GeneratedModelModule> {
  const code = emitModule(compiled.ir, compiled.cost, moduleInfo(compiled, sourcePath));
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const path = join(
    CACHE_DIR,
    `${moduleFileStem(compiled.ir.network)}_${moduleFileStem(compiled.ir.variant)}_${hash}.mts`,
  );
  mkdirSync(CACHE_DIR, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, code);
  renameSync(temp, path);
  return (await import(pathToFileURL(path).href)) as GeneratedModelModule;
}
