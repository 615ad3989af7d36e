import type * as tf from "@tensorflow/tfjs";

/**
 * The generated modules' seeded dropout layers (src/codegen/emit.ts, SeededDropout): they
 * count their draws, and read their rate at every call, so a run may change it.
 */
export type SeededDropoutLayer = tf.layers.Layer & {
  draws: number;
  rate: number;
  noiseShape?: readonly (number | null)[];
};

export function seededDropoutLayers(model: tf.LayersModel): SeededDropoutLayer[] {
  return model.layers.filter((l): l is SeededDropoutLayer => typeof (l as { draws?: unknown }).draws === "number");
}

/**
 * Scales every drop-connect (stochastic depth) rate of the model by `factor`: the layers
 * that drop whole examples (noise shape [null, 1, 1, 1], Keras's drop connect), not the
 * classifier's dropout. The reference rates grow with the block, drop_connect_rate · b /
 * blocks (Keras EfficientNet()), so scaling them all by R / drop_connect_rate is the
 * network built with drop_connect_rate R. For `train --drop-connect`: the generated
 * module keeps the spec's rates. Returns how many layers it changed.
 */
export function scaleDropConnect(model: tf.LayersModel, factor: number): number {
  const perSample = seededDropoutLayers(model).filter((l) => l.noiseShape?.slice(1).every((n) => n === 1));
  for (const layer of perSample) layer.rate *= factor;
  return perSample.length;
}
