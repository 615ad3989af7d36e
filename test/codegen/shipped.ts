import { readFileSync } from "node:fs";
import type { Options } from "prettier";
import { compile, type CompiledVariant } from "../../src/compile.ts";
import { shippedSpecs } from "../../src/codegen/generate.ts";
import { moduleFileStem } from "../../src/codegen/emit.ts";
import type { GeneratedModelModule } from "../../src/runtime/module.ts";

/** The repository root, where specs/ and generated/ live (vitest runs from it). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** The project's prettier configuration (.prettierrc.json), which the emitted modules must already satisfy. */
export const PRETTIER_OPTIONS: Options = {
  ...(JSON.parse(readFileSync(new URL(".prettierrc.json", `file://${ROOT}`), "utf8")) as Options),
  parser: "typescript",
};

export interface ShippedVariant {
  readonly spec: string;
  readonly network: string;
  readonly compiled: CompiledVariant;
  /** The checked-in module's path relative to the root: generated/efficientnet/b0.ts. */
  readonly modulePath: string;
  readonly load: () => Promise<GeneratedModelModule>;
}

/** Every variant of every shipped spec, compiled by the same pipeline as `effnet audit`. */
export function shippedVariants(): ShippedVariant[] {
  return shippedSpecs(ROOT).flatMap((spec) => {
    const compilation = compile({ path: spec, text: readFileSync(new URL(spec, `file://${ROOT}`), "utf8") });
    if (!compilation.ok || !compilation.spec) throw new Error(`shipped spec ${spec} does not compile`);
    const network = moduleFileStem(compilation.spec.name);
    return compilation.variants.map((compiled) => {
      const modulePath = `generated/${network}/${moduleFileStem(compiled.variant.name)}.ts`;
      return {
        spec,
        network,
        compiled,
        modulePath,
        load: () =>
          import(/* @vite-ignore */ new URL(modulePath, `file://${ROOT}`).href) as Promise<GeneratedModelModule>,
      };
    });
  });
}
