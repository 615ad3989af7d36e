import * as tf from "@tensorflow/tfjs";
import { batchTensors, type ImageDataset } from "./data.ts";

/**
 * Whether the model's classifier outputs logits (a linear dense layer, torchvision's
 * convention) rather than probabilities (softmax, Keras's).
 */
export function outputsLogits(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  return last.getClassName() === "Dense" && last.getConfig().activation === "linear";
}

/** The model's outputs as probabilities: softmax of logits, probabilities unchanged. */
export function probabilitiesOf(model: tf.LayersModel, outputs: tf.Tensor2D): tf.Tensor2D {
  return outputsLogits(model) ? tf.softmax(outputs) : outputs;
}

/** Class probabilities for each image of `dataset` (or the ones at `indices`), in inference mode. */
export function predictProbabilities(
  model: tf.LayersModel,
  dataset: ImageDataset,
  indices: readonly number[] = Array.from({ length: dataset.count }, (_, i) => i),
  batchSize = 32,
): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let i = 0; i < indices.length; i += batchSize) {
    const { xs, ys } = batchTensors(dataset, indices.slice(i, i + batchSize));
    ys.dispose();
    const probabilities = tf.tidy(() => probabilitiesOf(model, model.predict(xs) as tf.Tensor2D).arraySync());
    xs.dispose();
    for (const row of probabilities) rows.push(Float32Array.from(row));
  }
  return rows;
}

/** A labelled data set's scores under a model in inference mode (what `effnet eval` prints). */
export interface Evaluation {
  readonly images: number;
  /** Mean categorical cross-entropy, as Keras's (probabilities clipped to [1e-7, 1 − 1e-7]). */
  readonly loss: number;
  /** Share of images whose most probable class is their label (ties go to the lower class index). */
  readonly accuracy: number;
  /** Per class (in classNames order): images of that class and the share classified correctly. */
  readonly perClass: readonly { readonly class: string; readonly images: number; readonly accuracy: number }[];
  /** confusion[truth][predicted]: image counts. */
  readonly confusion: readonly (readonly number[])[];
}

/** tfjs's backend epsilon, which Keras's categorical cross-entropy clips probabilities with. */
const EPSILON = 1e-7;

export function evaluateModel(model: tf.LayersModel, dataset: ImageDataset, batchSize = 32): Evaluation {
  const classes = dataset.classNames.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  predictProbabilities(model, dataset, undefined, batchSize).forEach((row, i) => {
    const truth = dataset.labels[i];
    let predicted = 0;
    for (let c = 1; c < row.length; c++) if (row[c] > row[predicted]) predicted = c;
    confusion[truth][predicted]++;
    // Keras's categorical_crossentropy normalises the row, clips it, and takes −log p(truth).
    const total = row.reduce((a, b) => a + b, 0);
    lossSum -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, row[truth] / total)));
  });
  const correct = confusion.reduce((n, row, c) => n + row[c], 0);
  return {
    images: dataset.count,
    loss: lossSum / dataset.count,
    accuracy: correct / dataset.count,
    perClass: dataset.classNames.map((name, c) => {
      const images = confusion[c].reduce((a, b) => a + b, 0);
      return { class: name, images, accuracy: images === 0 ? 0 : confusion[c][c] / images };
    }),
    confusion,
  };
}
