import * as tf from "@tensorflow/tfjs";
import pngjs from "pngjs";
import { CHANNELS, modelInput } from "./data.ts";
import { RuntimeUserError } from "./errors.ts";
import { probabilitiesOf } from "./evaluate.ts";

/**
 * Class activation maps (Zhou et al. 2016, "Learning Deep Features for Discriminative
 * Localization"; the EfficientNet paper's Figure 7): for a network whose classifier is
 * global average pooling then one dense layer, the score of class c is the average over
 * positions of M_c(x, y) = Σ_k w_kc · f_k(x, y), so M_c, the last feature map weighted by
 * the classifier's column for c, says where the evidence for c lies.
 */
export interface ClassActivationMap {
  /** The class the map is for: the one asked for, else the predicted one. */
  readonly classIndex: number;
  readonly probabilities: Float32Array;
  /** Feature-map resolution, and the map there (row-major). */
  readonly height: number;
  readonly width: number;
  readonly map: Float32Array;
  /** The map resized (bilinear) to the image and scaled to [0, 1]. */
  readonly upsampled: Float32Array;
}

/** The model's last feature map and classifier: global average pooling, optional dropout, dense. */
function camParts(model: tf.LayersModel): { features: tf.SymbolicTensor; kernel: tf.Tensor2D } {
  const dense = model.layers[model.layers.length - 1];
  const pooling = [...model.layers].reverse().find((l) => l.getClassName() === "GlobalAveragePooling2D");
  if (dense.getClassName() !== "Dense" || !pooling)
    throw new RuntimeUserError(
      "class activation maps need a classifier of global average pooling and one dense layer (a `… & Pooling & FC` head)",
    );
  return { features: pooling.input as tf.SymbolicTensor, kernel: dense.getWeights()[0] as tf.Tensor2D };
}

/** One map per image ([0, 1] RGB, size × size), for `classIndex` or each image's predicted class. */
export function classActivationMaps(
  model: tf.LayersModel,
  images: readonly Float32Array[],
  size: number,
  classIndex?: number,
): ClassActivationMap[] {
  const { features, kernel } = camParts(model);
  const classes = kernel.shape[1];
  if (classIndex !== undefined && !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classes))
    throw new RuntimeUserError(`--class must be a class index from 0 to ${classes - 1}, not ${classIndex}`);
  const both = tf.model({ inputs: model.inputs, outputs: [features, model.outputs[0]] });
  return images.map((pixels) =>
    tf.tidy(() => {
      const [f, y] = both.predict(modelInput(pixels, [1, size, size, CHANNELS])) as [tf.Tensor4D, tf.Tensor2D];
      const probabilities = probabilitiesOf(model, y).dataSync() as Float32Array;
      const c = classIndex ?? probabilities.indexOf(Math.max(...probabilities));
      const [, h, w, k] = f.shape;
      const column = tf.slice(kernel, [0, c], [k, 1]);
      const map = tf.reshape(tf.matMul(tf.reshape(f, [h * w, k]), column), [h, w, 1]);
      const resized = tf.image.resizeBilinear(map as tf.Tensor3D, [size, size], false, true);
      const lo = tf.min(resized);
      const range = tf.maximum(tf.sub(tf.max(resized), lo), 1e-12);
      return {
        classIndex: c,
        probabilities,
        height: h,
        width: w,
        map: map.dataSync() as Float32Array,
        upsampled: tf.div(tf.sub(resized, lo), range).dataSync() as Float32Array,
      };
    }),
  );
}

/** The "jet" colour map at t ∈ [0, 1]: blue (cold) → cyan → yellow → red (hot). */
function jet(t: number): [number, number, number] {
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  return [clamp(1.5 - Math.abs(4 * t - 3)), clamp(1.5 - Math.abs(4 * t - 2)), clamp(1.5 - Math.abs(4 * t - 1))];
}

/** The image with its map overlaid (half image, half heat), as PNG bytes. */
export function camOverlayPng(pixels: Float32Array, cam: ClassActivationMap, size: number): Buffer {
  const png = new pngjs.PNG({ width: size, height: size });
  for (let p = 0; p < size * size; p++) {
    const heat = jet(cam.upsampled[p]);
    for (let c = 0; c < CHANNELS; c++)
      png.data[p * 4 + c] = Math.round(255 * (0.5 * pixels[p * CHANNELS + c] + 0.5 * heat[c]));
    png.data[p * 4 + 3] = 255;
  }
  return pngjs.PNG.sync.write(png);
}
