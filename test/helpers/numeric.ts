import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

/** Deterministic uniform [-1, 1) values (LCG), identical on every backend. */
export function seededValues(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32) * 2 - 1;
  }
  return values;
}

export type Values = { readonly shape: readonly number[]; readonly values: Float32Array };

/**
 * 1e-4 relative, elementwise: |a − b| ≤ 1e-4 · max(|b|, 1e-2 · max|b|). The floor keeps
 * entries that are sums cancelling to ~0 from demanding more than float32 can give; it is
 * still 100x stricter than a norm-wise check.
 */
export function expectClose(actual: Values, expected: Values, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const tolerance = 1e-4 * Math.max(Math.abs(expected.values[i]), 1e-2 * scale);
    const excess = Math.abs(actual.values[i] - expected.values[i]) / tolerance;
    if (!(excess <= worst)) {
      worst = excess;
      worstIndex = i;
    }
  }
  expect(worst, `${what}: worst entry #${worstIndex} is ${worst.toFixed(2)}x over tolerance`).toBeLessThanOrEqual(1);
}

export async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}
