import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "./data.ts";
import { RuntimeUserError } from "./errors.ts";
import { trainModel, type EpochSummary, type TrainOptions, type TrainProgress, type TrainResult } from "./train.ts";

/**
 * Fine-tuning as the paper's transfer experiments (Table 5) do it: start from weights
 * trained on another task, replace the classifier by one for the new data's classes, train
 * the classifier alone for a few epochs (the features frozen, a higher learning rate), then
 * everything.
 */

/** The classifier: the model's last layer, a dense layer whose units are the classes. */
export function classifierLayer(model: tf.LayersModel): tf.layers.Layer {
  const last = model.layers[model.layers.length - 1];
  if (last.getClassName() !== "Dense") throw new RuntimeUserError("the model does not end in a dense classifier");
  return last;
}

/**
 * Copies every weighted layer of `from` into the layer of `to` with the same name, except
 * the classifier, which `to` keeps freshly initialised. The layers must be the same
 * variant's: a missing layer or another shape is an error naming it.
 */
export function transferBackbone(from: tf.LayersModel, to: tf.LayersModel, source: string): { layers: number } {
  const classifier = classifierLayer(to).name;
  const problems: string[] = [];
  const copies: [tf.layers.Layer, tf.Tensor[]][] = [];
  for (const layer of to.layers) {
    if (layer.weights.length === 0 || layer.name === classifier) continue;
    const other = from.layers.find((l) => l.name === layer.name);
    const weights = other?.getWeights() ?? [];
    const want = layer.weights.map((w) => JSON.stringify(w.shape));
    const have = weights.map((w) => JSON.stringify(w.shape));
    if (!other) problems.push(`${layer.name} is missing`);
    else if (JSON.stringify(want) !== JSON.stringify(have))
      problems.push(`${layer.name} has ${have.join(", ")} instead of ${want.join(", ")}`);
    else copies.push([layer, weights]);
  }
  if (problems.length)
    throw new RuntimeUserError(
      `the weights in ${source} are not this variant's: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`,
    );
  for (const [layer, weights] of copies) layer.setWeights(weights);
  return { layers: copies.length };
}

export interface FineTuneOptions extends TrainOptions {
  /** Epochs that train the classifier alone (the rest frozen), before all of the model trains. */
  readonly freezeEpochs: number;
  /** Adam's learning rate while the features are frozen. */
  readonly headLearningRate: number;
}

/** Trains the classifier alone for `freezeEpochs`, then the whole model for the remaining epochs. */
export async function fineTune(
  model: tf.LayersModel,
  dataset: ImageDataset,
  options: FineTuneOptions,
  onProgress: (progress: TrainProgress) => void = () => {},
  onEpochEnd: (summary: EpochSummary) => void = () => {},
): Promise<TrainResult> {
  const classifier = classifierLayer(model);
  const frozen = Math.min(options.freezeEpochs, options.epochs);
  const history: TrainProgress[] = [];
  const epochSummaries: EpochSummary[] = [];
  let seconds = 0;
  const phase = async (epochs: number, learningRate: number, maxSteps: number | undefined, offset: number) => {
    const result = await trainModel(
      model,
      dataset,
      { ...options, epochs, learningRate, maxSteps },
      (p) =>
        onProgress({
          ...p,
          epoch: p.epoch + offset,
          epochs: options.epochs,
          totalSteps: p.totalSteps + history.length,
        }),
      (e) => onEpochEnd({ ...e, epoch: e.epoch + offset }),
    );
    history.push(...result.history);
    epochSummaries.push(...result.epochs.map((e) => ({ ...e, epoch: e.epoch + offset })));
    seconds += result.seconds;
  };
  const trainable = model.layers.map((l) => l.trainable);
  try {
    if (frozen > 0) {
      for (const layer of model.layers) layer.trainable = layer === classifier;
      await phase(frozen, options.headLearningRate, options.maxSteps, 0);
    }
  } finally {
    model.layers.forEach((l, i) => (l.trainable = trainable[i]));
  }
  const left = options.maxSteps === undefined ? undefined : options.maxSteps - history.length;
  if (options.epochs > frozen && (left === undefined || left > 0))
    await phase(options.epochs - frozen, options.learningRate ?? 1e-3, left, frozen);
  return { history, epochs: epochSummaries, seconds };
}
