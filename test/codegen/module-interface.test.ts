import { describe, expect, it } from "vitest";
import type { BuildOptions, GeneratedModelModule, ModelMetadata } from "../../src/runtime/module.ts";
import type * as b0 from "../../generated/efficientnet/b0.ts";
import type * as v2s from "../../generated/efficientnetv2/s.ts";
import type * as r18 from "../../generated/resnet/r18.ts";
import type * as small from "../../generated/mobilenetv3small/small.ts";
import { shippedVariants } from "./shipped.ts";

/**
 * The generated module's interface is declared once, in src/runtime/module.ts; the emitter
 * writes its own copy into every module (a module needs no effnet code). These checks are
 * what keeps the two the same: at type level (tsc, part of `npm test`) the checked-in
 * modules' exports and the declaration have exactly the same fields, nested ones included;
 * at run time every shipped module's metadata has exactly the fields its type says.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type KeysOf<T> = { [K in keyof T]-?: T[K] extends readonly unknown[] ? K : T[K] extends object ? KeysOf<T[K]> : K };
type Checks<M extends { metadata: unknown; BuildOptions?: never }> = [
  Same<KeysOf<M["metadata"]>, KeysOf<ModelMetadata>>,
  M extends GeneratedModelModule ? true : false,
];
// A module that drifts from the declaration turns one of these `true`s into a type error.
const typeChecks: [Checks<typeof b0>, Checks<typeof v2s>, Checks<typeof r18>, Checks<typeof small>] = [
  [true, true],
  [true, true],
  [true, true],
  [true, true],
];
const optionsCheck: Same<keyof BuildOptions, keyof import("../../generated/efficientnet/b0.ts").BuildOptions> = true;

/** ModelMetadata's fields, nested ones as `parent.child`, listed from the type so that tsc keeps the list true. */
const METADATA_FIELDS = {
  network: 0,
  variant: 0,
  source: 0,
  coefficients: { width: 0, depth: 0, resolution: 0, phi: 0 },
  resolution: 0,
  inputShape: 0,
  classes: 0,
  dropout: 0,
  params: { total: 0, trainable: 0, nonTrainable: 0 },
  macs: 0,
  flops: 0,
  layers: 0,
  convention: { name: 0, padding: 0, preprocessing: 0, output: 0 },
  initialization: 0,
} satisfies Record<keyof ModelMetadata, unknown>;
const fieldsCheck: Same<keyof typeof METADATA_FIELDS, keyof ModelMetadata> = true;

function fieldPaths(value: object, prefix = ""): string[] {
  return Object.entries(value)
    .flatMap(([k, v]) =>
      v && typeof v === "object" && !Array.isArray(v) ? fieldPaths(v, `${prefix}${k}.`) : [prefix + k],
    )
    .sort();
}

describe("the generated module's interface", () => {
  it("is the declaration's, at type level", () => {
    expect([typeChecks, optionsCheck, fieldsCheck].flat(2).every((c) => c === true)).toBe(true);
  });

  it.each(shippedVariants().map((v) => [v.modulePath, v] as const))(
    "%s exports buildModel and metadata with exactly the declared fields",
    async (_, variant) => {
      const module = await variant.load();
      expect(Object.keys(module).sort()).toEqual(["buildModel", "metadata"]);
      expect(typeof module.buildModel).toBe("function");
      expect(fieldPaths(module.metadata)).toEqual(fieldPaths(METADATA_FIELDS));
    },
  );
});
