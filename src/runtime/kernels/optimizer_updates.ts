/**
 * What effnet's one-variable-at-a-time optimizer updates share (adam.ts, lean_optimizers.ts):
 * tfjs-core's gradient argument visited in its own order, its slots made as it makes them, the
 * size up to which a variable's whole update is one kernel, and the swap of an optimizer's
 * `applyGradients` on its prototype (installed by registerTrainingKernels, restored by tests).
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedTensorMap, Tensor, Variable } from "@tensorflow/tfjs";

/** Variables up to this many values are updated by one kernel call (see adam.ts's header). */
export const FUSED_UPDATE_MAX_SIZE = 4096;

export type VariableGradients = NamedTensorMap | { name: string; tensor: Tensor }[];
export type Slot = { originalName: string; variable: Variable };

/** Each variable, its gradient and its tfjs slot index, in the order tfjs-core visits them. */
export function eachGradient(
  variableGradients: VariableGradients,
  visit: (value: Variable, gradient: Tensor | undefined, i: number) => void,
): void {
  const names = Array.isArray(variableGradients)
    ? variableGradients.map((v) => v.name)
    : Object.keys(variableGradients);
  const registered = tf.engine().registeredVariables;
  names.forEach((name, i) =>
    visit(
      registered[name],
      Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name],
      i,
    ),
  );
}

/** A zero-filled slot named as tfjs-core names it (`<variable>/<suffix>`), made the first time a variable is updated. */
export function slot(slots: Slot[], i: number, value: Variable, suffix: string): Variable {
  slots[i] ??= {
    originalName: `${value.name}/${suffix}`,
    variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
  };
  return slots[i].variable;
}

/**
 * Whether this variable's update goes through the one-kernel update: the backend has the kernel,
 * and the variable is small or the kernel is a SIMD loop (`anySize`, update_kernels.ts hasSimdUpdateKernel).
 */
export const fusedFor = (value: Variable, fused: boolean, anySize = false): boolean =>
  fused && (anySize || value.size <= FUSED_UPDATE_MAX_SIZE);

type ApplyGradients = (this: never, variableGradients: VariableGradients) => void;

/**
 * Swaps an optimizer class's applyGradients for `lean` (idempotent) and back; `original`
 * is tfjs-core's, for a lean update that hands a case it does not cover back to it.
 */
export function applyGradientsPatch<T>(
  optimizerClass: { prototype: unknown },
  lean: (this: T, variableGradients: VariableGradients) => void,
): { install(): void; restore(): void; original(): (this: T, variableGradients: VariableGradients) => void } {
  const prototype = optimizerClass.prototype as { applyGradients: ApplyGradients };
  const patched = lean as unknown as ApplyGradients;
  let original: ApplyGradients | undefined;
  return {
    install: () => {
      if (prototype.applyGradients === patched) return;
      original = prototype.applyGradients;
      prototype.applyGradients = patched;
    },
    restore: () => {
      if (original && prototype.applyGradients === patched) prototype.applyGradients = original;
    },
    original: () => (original ?? prototype.applyGradients) as unknown as (this: T, v: VariableGradients) => void,
  };
}
