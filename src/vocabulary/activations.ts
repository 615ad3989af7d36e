/**
 * The one table of activations: what a spec may name, and how tfjs computes each. A
 * `builtin` is a tfjs activation identifier (tf.layers.activation, or a conv/dense
 * layer's `activation` field); a `custom` one has no tfjs identifier and is a layer of
 * src/runtime/layers.ts (CUSTOM_LAYERS), which the generated module copies in and
 * registers and the model loader registers too, so a saved model loads again. Adding an
 * activation is one entry here (and its layer class, for a custom one).
 */
import type { CustomLayerName } from "./custom-layers.ts";

export interface ActivationDef {
  /** Whether a spec may name it (`activation relu6`, the Activation column); softmax is the classifier's only. */
  readonly inSpecs: boolean;
  readonly summary: string;
  readonly tfjs: { readonly builtin: string } | { readonly custom: CustomLayerName };
}

export const ACTIVATION_TABLE = {
  swish: { inSpecs: true, summary: "x·sigmoid(x) (SiLU)", tfjs: { builtin: "swish" } },
  relu: { inSpecs: true, summary: "max(0, x)", tfjs: { builtin: "relu" } },
  relu6: { inSpecs: true, summary: "min(max(0, x), 6)", tfjs: { builtin: "relu6" } },
  sigmoid: { inSpecs: true, summary: "1 / (1 + e^−x)", tfjs: { builtin: "sigmoid" } },
  // PyTorch nn.Hardswish / nn.Hardsigmoid (Howard et al. 2019, MobileNetV3, eq. 2). tfjs's
  // built-in `hardSigmoid` is Keras 2's clip(0.2x + 0.5, 0, 1), a different function.
  hardswish: { inSpecs: true, summary: "x·relu6(x + 3)/6 (MobileNetV3)", tfjs: { custom: "EffnetHardSwish" } },
  hardsigmoid: { inSpecs: true, summary: "relu6(x + 3)/6 (MobileNetV3)", tfjs: { custom: "EffnetHardSigmoid" } },
  softmax: { inSpecs: false, summary: "the classifier's probabilities", tfjs: { builtin: "softmax" } },
  linear: { inSpecs: true, summary: "x (none)", tfjs: { builtin: "linear" } },
} as const satisfies Record<string, ActivationDef>;

export type Activation = keyof typeof ACTIVATION_TABLE;

/** Activations a spec may name. */
export const SPEC_ACTIVATIONS = (Object.keys(ACTIVATION_TABLE) as Activation[]).filter(
  (a) => ACTIVATION_TABLE[a].inSpecs,
);

/** The tfjs identifier of a built-in activation, or undefined for one that needs its own layer. */
export function builtinActivation(a: Activation): string | undefined {
  const tfjs: ActivationDef["tfjs"] = ACTIVATION_TABLE[a].tfjs;
  return "builtin" in tfjs ? tfjs.builtin : undefined;
}

/** The custom layer that computes an activation without a tfjs identifier. */
export function activationLayer(a: Activation): CustomLayerName | undefined {
  const tfjs: ActivationDef["tfjs"] = ACTIVATION_TABLE[a].tfjs;
  return "custom" in tfjs ? tfjs.custom : undefined;
}
