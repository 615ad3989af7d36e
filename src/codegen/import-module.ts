import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { basename, dirname, join } from "node:path";
import type { CompiledVariant } from "../compile.ts";
import { writeAllOrNothing } from "../files/write.ts";
import type { GeneratedModelModule } from "../runtime/module.ts";
import { emitModule, moduleFileStem } from "./emit.ts";
import { moduleInfo } from "./generate.ts";

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
  writeAllOrNothing([{ path, content: code }]);
  const url = pathToFileURL(path).href;
  const module = (await import(url)) as GeneratedModelModule;
  moduleUrls.set(module, url);
  return module;
}

const moduleUrls = new WeakMap<GeneratedModelModule, string>();

/** The file URL importVariantModule imported `module` from: what worker threads import to build its replicas (runtime/parallel.ts). */
export function variantModuleUrl(module: GeneratedModelModule): string | undefined {
  return moduleUrls.get(module);
}
