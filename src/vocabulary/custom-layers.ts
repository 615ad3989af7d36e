/**
 * The one table of custom layers, each with the Keras class it stands in for (the layer
 * summary's class name: Keras has Normalization, Conv2D(groups=…), Activation("hard_silu")): tfjs layer classes that generated models need and
 * tfjs lacks. Each name is a class in src/runtime/layers.ts between `effnet:emit` markers;
 * the code generator copies that class into every module that uses it (src/codegen/emit.ts)
 * and the runtime registers all of them (layers.ts CUSTOM_LAYERS, typed by this list), so
 * `effnet predict`, `train` and `weights` load any saved model. Data only (no tfjs), so
 * the IR and the code generator can name the layers without loading tfjs.
 */
export const CUSTOM_LAYERS = {
  EffnetNormalization: { kerasClass: "Normalization" },
  EffnetHardSwish: { kerasClass: "Activation" },
  EffnetHardSigmoid: { kerasClass: "Activation" },
  EffnetGroupedConv2D: { kerasClass: "Conv2D" },
} as const satisfies Record<string, { readonly kerasClass: string }>;

export type CustomLayerName = keyof typeof CUSTOM_LAYERS;

export const CUSTOM_LAYER_NAMES = Object.keys(CUSTOM_LAYERS) as CustomLayerName[];
