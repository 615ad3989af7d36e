import type * as tf from "@tensorflow/tfjs";

/**
 * The interface of a generated model module, declared once: src/codegen/emit.ts writes
 * modules that implement it (their own copy of these declarations, so that a module needs
 * no effnet code), test/codegen/module-interface.test.ts checks that every shipped module
 * satisfies this declaration (tsc) and that its metadata has exactly these fields.
 */
/** The options of `buildModel`. */
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
  /** src/vocabulary/conventions.ts: what the model computes beyond its shapes. */
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
