import * as tf from "@tensorflow/tfjs";
import { batchTensors, seededRandom, shuffledIndices, type ImageDataset } from "./data.ts";
import { releaseLayerOutputsEarly } from "./release.ts";

/**
 * Supervised training of a compiled model on an in-memory image data set: Adam,
 * categorical cross-entropy on the softmax output, accuracy, a seeded shuffle each
 * epoch. A plain loop over model.trainOnBatch rather than model.fit, so that progress
 * (with images per second) is reported after every step and a run can stop after a given
 * number of steps, and so that only one batch is ever materialised as tensors.
 */
export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate?: number;
  /** Seed of the epoch shuffles (default 1). */
  readonly seed?: number;
  /** Stop after this many steps in all, e.g. for a smoke test (default: all epochs). */
  readonly maxSteps?: number;
  /** Images to re-estimate batch-norm statistics on after training (see recomputeBatchNormStatistics); 0 skips it. Default 256. */
  readonly preciseBatchNormImages?: number;
}

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based step within the epoch, and the epoch's number of steps. */
  readonly step: number;
  readonly steps: number;
  /** Steps done in all. */
  readonly totalSteps: number;
  /** This step's batch loss and accuracy (measured before the step's update, as Keras reports them). */
  readonly loss: number;
  readonly accuracy: number;
  /** Means over the epoch so far, what a progress bar shows. */
  readonly epochLoss: number;
  readonly epochAccuracy: number;
  /** Training throughput of this epoch so far. */
  readonly imagesPerSecond: number;
}

export interface TrainResult {
  readonly history: readonly TrainProgress[];
  readonly seconds: number;
}

export const DEFAULT_LEARNING_RATE = 1e-3;

export async function trainModel(
  model: tf.LayersModel,
  dataset: ImageDataset,
  options: TrainOptions,
  onProgress: (progress: TrainProgress) => void = () => {},
): Promise<TrainResult> {
  const outputUnits = (model.outputs[0].shape as (number | null)[]).at(-1);
  if (outputUnits !== dataset.classNames.length) {
    throw new Error(
      `the model predicts ${outputUnits} classes but the data set has ${dataset.classNames.length}; build it with { classes: ${dataset.classNames.length} }`,
    );
  }
  model.compile({
    optimizer: tf.train.adam(options.learningRate ?? DEFAULT_LEARNING_RATE),
    // torchvision's convention ends in logits: the same cross-entropy, with the softmax inside the loss.
    loss: outputsLogits(model)
      ? (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits)
      : "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  releaseLayerOutputsEarly(model); // memory: see release.ts
  const random = seededRandom(options.seed ?? 1);
  const batchSize = Math.min(options.batchSize, dataset.count);
  const steps = Math.ceil(dataset.count / batchSize);
  const maxSteps = options.maxSteps ?? Infinity;
  const history: TrainProgress[] = [];
  const start = performance.now();
  for (let epoch = 1; epoch <= options.epochs && history.length < maxSteps; epoch++) {
    const order = shuffledIndices(dataset.count, random);
    let lossSum = 0;
    let accuracySum = 0;
    let images = 0;
    let epochMs = 0;
    for (let step = 1; step <= steps && history.length < maxSteps; step++) {
      const indices = order.slice((step - 1) * batchSize, step * batchSize);
      const { xs, ys } = batchTensors(dataset, indices);
      const stepStart = performance.now();
      let result: number | number[];
      try {
        result = await model.trainOnBatch(xs, ys);
      } finally {
        xs.dispose();
        ys.dispose();
      }
      epochMs += performance.now() - stepStart;
      const [loss, accuracy] = result as number[];
      lossSum += loss * indices.length;
      accuracySum += accuracy * indices.length;
      images += indices.length;
      const progress: TrainProgress = {
        epoch,
        epochs: options.epochs,
        step,
        steps,
        totalSteps: history.length + 1,
        loss,
        accuracy,
        epochLoss: lossSum / images,
        epochAccuracy: accuracySum / images,
        imagesPerSecond: images / (epochMs / 1000),
      };
      history.push(progress);
      onProgress(progress);
    }
  }
  const preciseImages = Math.min(options.preciseBatchNormImages ?? 256, dataset.count);
  if (preciseImages > 0)
    recomputeBatchNormStatistics(
      model,
      dataset,
      shuffledIndices(dataset.count, random).slice(0, preciseImages),
      batchSize,
    );
  return { history, seconds: (performance.now() - start) / 1000 };
}

/**
 * "Precise BN" (Wu & Johnson 2021, Rethinking "Batch" in BatchNorm, section 3; the
 * PreciseBN hook of pycls/detectron2): replaces every batch-norm layer's moving mean and
 * variance by the population statistics of its input over `indices`, measured with the
 * network in training mode as the optimiser saw it. The moving averages lag far behind
 * after a short run: they start at mean 0 and variance 1, and with Keras's momentum 0.99
 * (EfficientNet) 0.99^100 = 37% of that start is still in them after 100 steps, while
 * real activations may have variances near 1e-3. A model then trains well and predicts
 * at chance in inference mode. Long runs converge anyway; this makes short ones usable.
 */
export function recomputeBatchNormStatistics(
  model: tf.LayersModel,
  dataset: ImageDataset,
  indices: readonly number[],
  batchSize: number,
): void {
  const layers = model.layers.filter((l) => l.getClassName() === "BatchNormalization");
  if (layers.length === 0 || indices.length === 0) return;
  // One forward pass yields every batch-norm layer's input.
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tf.SymbolicTensor) });
  // Per channel, over all batches (in float64): Σ n_b·mean_b, Σ n_b·mean_b², Σ n_b·var_b. Each batch's
  // variance comes from tf.moments (two-pass, as training mode computes it); combining them as
  // Var = (Σ n_b·var_b + Σ n_b·mean_b²) / n − mean² (Chan et al. 1979) avoids E[x²] − E[x]² in
  // float32, whose cancellation is larger than small variances after ReLU6.
  const sums = layers.map(() => ({
    mean: new Float64Array(0),
    meanSquare: new Float64Array(0),
    variance: new Float64Array(0),
  }));
  let seen = 0;
  for (let i = 0; i < indices.length; i += batchSize) {
    const batch = indices.slice(i, i + batchSize);
    const { xs, ys } = batchTensors(dataset, batch);
    const moments = tf.tidy(() => {
      const inputs = probe.apply(xs, { training: true }) as tf.Tensor[];
      return inputs.map((x) => {
        const axes = x.shape.slice(0, -1).map((_, axis) => axis);
        const { mean, variance } = tf.moments(x, axes);
        return [mean.dataSync(), variance.dataSync()] as const;
      });
    });
    tf.dispose([xs, ys]);
    moments.forEach(([mean, variance], k) => {
      if (sums[k].mean.length === 0)
        sums[k] = {
          mean: new Float64Array(mean.length),
          meanSquare: new Float64Array(mean.length),
          variance: new Float64Array(mean.length),
        };
      for (let c = 0; c < mean.length; c++) {
        sums[k].mean[c] += mean[c] * batch.length;
        sums[k].meanSquare[c] += mean[c] * mean[c] * batch.length;
        sums[k].variance[c] += variance[c] * batch.length;
      }
    });
    seen += batch.length;
  }
  layers.forEach((layer, k) => {
    const { mean: meanSum, meanSquare, variance: varianceSum } = sums[k];
    const mean = Float32Array.from(meanSum, (m) => m / seen);
    const variance = Float32Array.from(varianceSum, (v, c) =>
      Math.max(0, (v + meanSquare[c]) / seen - (meanSum[c] / seen) ** 2),
    );
    const weights = layer.getWeights();
    const names = layer.weights.map((w) => w.originalName.split("/").pop());
    const replaced = weights.map((w, i) =>
      names[i] === "moving_mean" ? tf.tensor1d(mean) : names[i] === "moving_variance" ? tf.tensor1d(variance) : w,
    );
    layer.setWeights(replaced);
    tf.dispose(replaced.filter((t) => !weights.includes(t)));
  });
}

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
