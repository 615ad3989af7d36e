/**
 * The one table of custom layers: tfjs layer classes that generated models need and tfjs
 * lacks. Each name is a class in src/runtime/layers.ts between `effnet:emit` markers;
 * the code generator copies that class into every module that uses it (src/codegen/emit.ts)
 * and the runtime registers all of them (layers.ts CUSTOM_LAYERS, typed by this list), so
 * `effnet predict`, `train` and `weights` load any saved model. Data only (no tfjs), so
 * the IR and the code generator can name the layers without loading tfjs.
 */
export const CUSTOM_LAYER_NAMES = ["EffnetNormalization", "EffnetHardSwish", "EffnetHardSigmoid"] as const;

export type CustomLayerName = (typeof CUSTOM_LAYER_NAMES)[number];
