import * as tf from "@tensorflow/tfjs";
import {
  augmentImages,
  batchTensors,
  batchValues,
  seededRandom,
  shuffledIndices,
  streamSeed,
  type ImageDataset,
} from "./data.ts";
import { seededDropoutLayers, type SeededDropoutLayer } from "./dropout.ts";
import { RuntimeUserError } from "./errors.ts";
import { evaluateModel, outputsLogits } from "./evaluate.ts";
import { GradientWorkers, type WorkerOptions } from "./parallel.ts";
import { releaseLayerOutputsEarly, whileTraining } from "./release.ts";
import {
  DEFAULT_OPTIMIZER,
  learningRateAt,
  OPTIMIZERS,
  parseSchedule,
  restoreOptimizer,
  setLearningRate,
  type OptimizerName,
} from "./optimizers.ts";

export { scaleDropConnect, seededDropoutLayers } from "./dropout.ts";

/**
 * Supervised training of a compiled model on an in-memory image data set: categorical
 * cross-entropy on the softmax output, an optimiser and learning-rate schedule by name
 * (src/runtime/optimizers.ts), optional L2 weight decay, augmentation and a held-out
 * validation set, a seeded shuffle each epoch. A plain loop of steps rather than
 * model.fit, so that progress (with images per second and an ETA) is reported after every
 * step, a run can stop after a given number of steps and resume from a checkpoint, and
 * only one batch is ever materialised as tensors.
 *
 * Reproducible: with the same seed, data and backend, two runs compute the same losses
 * bit for bit. The model's own draws (initial weights, dropout masks) follow
 * buildModel's seed; the shuffle and augmentation of epoch e draw from stream e of
 * `seed` (streamSeed), the precise-BN sample from stream 0.
 */
export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer?: OptimizerName;
  /** Default: the optimiser's recipe (OPTIMIZERS[name].defaults). */
  readonly learningRate?: number;
  /** L2 weight decay on every trainable weight but batch norm's (default: the optimiser's recipe). */
  readonly weightDecay?: number;
  /** A schedule of SCHEDULES, e.g. `exponential:0.97/2.4` (default constant). */
  readonly schedule?: string;
  /** Linear warm-up from 0 over this many epochs (default 0). */
  readonly warmupEpochs?: number;
  /** Seed of the epoch shuffles, the augmentation and the precise-BN sample (default 1). */
  readonly seed?: number;
  /** Random-resized crops and horizontal flips of the training images (augmentImages). */
  readonly augment?: boolean;
  /** Held-out images, measured in inference mode after every epoch. */
  readonly validation?: ImageDataset;
  /** Stop after this many steps in all, e.g. for a smoke test (default: all epochs). */
  readonly maxSteps?: number;
  /** Images to re-estimate batch-norm statistics on (see recomputeBatchNormStatistics) before each validation and after training; 0 skips it. Default 256. */
  readonly preciseBatchNormImages?: number;
  /** Continue a run from the state a checkpoint recorded (onEpoch's). */
  readonly resume?: ResumeState;
  /** Called after every epoch (after its validation) with what a checkpoint needs. */
  readonly onEpoch?: (state: CheckpointState) => Promise<unknown>;
  /** Called once at the end, after the precise batch-norm statistics, with the final state (the optimiser is disposed after it). */
  readonly onFinish?: (state: CheckpointState) => Promise<unknown>;
  /**
   * Data-parallel training over worker threads (parallel.ts): each batch is split into
   * `count` shards whose gradients are averaged. Default: one thread, this one.
   */
  readonly workers?: WorkerOptions;
}

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based step within the epoch, and the epoch's number of steps. */
  readonly step: number;
  readonly steps: number;
  /** Steps done in all, and the steps the run will take in all. */
  readonly totalSteps: number;
  readonly plannedSteps: number;
  /** This step's batch loss and accuracy (measured before the step's update, as Keras reports them). */
  readonly loss: number;
  readonly accuracy: number;
  /** Means over the epoch so far, what a progress bar shows. */
  readonly epochLoss: number;
  readonly epochAccuracy: number;
  /** The learning rate of this step. */
  readonly learningRate: number;
  /** Training throughput of this epoch so far. */
  readonly imagesPerSecond: number;
  /** Seconds since the run started (including a resumed run's earlier sessions), and an estimate of those left. */
  readonly elapsedSeconds: number;
  readonly etaSeconds: number;
}

/** One epoch of the history (history.json): its means, and its validation if any. */
export interface EpochSummary {
  readonly epoch: number;
  readonly steps: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
  readonly learningRate: number;
  readonly elapsedSeconds: number;
}

/** Where a checkpointed run stands; enough, with the model's and optimiser's weights, to continue it exactly. */
export interface ResumeState {
  readonly epochsDone: number;
  readonly totalSteps: number;
  readonly elapsedSeconds: number;
  readonly history: readonly EpochSummary[];
  /** The optimiser's state (tf.Optimizer.getWeights). */
  readonly optimizerWeights: readonly { readonly name: string; readonly tensor: tf.Tensor }[];
  /** Masks each seeded dropout layer has drawn (the generated modules' SeededDropout.draws), in layer order. */
  readonly dropoutDraws: readonly number[];
}

export type CheckpointState = ResumeState;

export interface TrainResult {
  readonly history: readonly TrainProgress[];
  readonly epochs: readonly EpochSummary[];
  readonly seconds: number;
}

/**
 * The network's logits in training mode. A softmax classifier's probabilities underflow to
 * 0 for confidently wrong examples, and the cross-entropy of probabilities clips them at
 * 1e-7 (tfjs-layers losses.ts, as Keras's), where the clip's gradient is 0: those
 * examples stop teaching. Keras avoids it by computing the loss from the softmax's input
 * (backend.categorical_crossentropy takes `output.op.inputs[0]` of a Softmax op); tfjs
 * cannot see inside the Dense layer, so when the output layer is a softmax Dense, this
 * applies its kernel and bias to its input itself (the same variables, so the same
 * gradients). It matters from the first step: the reference classifier initialisation
 * (±√(1/classes)) on batch-normalised features gives logits with a standard deviation
 * near 9 for 3 classes, and most examples start saturated.
 */
export function logitsOf(model: tf.LayersModel): ((xs: tf.Tensor4D) => tf.Tensor2D) | undefined {
  // torchvision's convention ends in logits already (src/vocabulary/conventions.ts).
  if (outputsLogits(model)) return (xs) => model.apply(xs, { training: true }) as tf.Tensor2D;
  const last = model.layers.at(-1);
  const config = last?.getConfig() as { activation?: string } | undefined;
  if (!last || last.getClassName() !== "Dense" || config?.activation !== "softmax") return undefined;
  const weight = (name: string) => last.weights.find((w) => w.originalName.endsWith(`/${name}`))?.read();
  const kernel = weight("kernel");
  const bias = weight("bias");
  if (!kernel) return undefined;
  const features = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
  return (xs) => {
    const product = tf.matMul(features.apply(xs, { training: true }) as tf.Tensor2D, kernel as tf.Tensor2D);
    return (bias ? tf.add(product, bias) : product) as tf.Tensor2D;
  };
}

/**
 * Sets the classifier's kernel (the output Dense layer's) to zeros: a new head starts at
 * uniform probabilities and loss ln(classes), as Google's ViT and BiT initialise the head
 * they train on a new task (vit_jax models.py: `nn.Dense(num_classes,
 * kernel_init=nn.initializers.zeros)`). The reference EfficientNet rule, uniform
 * ±√(1/classes), is scaled for 1,000 classes: for 3 on a small input, whose features are
 * batch-normalised and not averaged over space, it starts with logits of standard deviation
 * near 9, and a short run spends its steps unlearning them (measured: no learning in 100
 * steps of B0 at 32 px; with a zero head, 67% training accuracy after 96). Returns false
 * when the output layer is not a Dense.
 */
export function zeroClassifier(model: tf.LayersModel): boolean {
  const last = model.layers.at(-1);
  if (!last || last.getClassName() !== "Dense") return false;
  const kernel = last.weights.find((w) => w.originalName.endsWith("/kernel"));
  if (!kernel) return false;
  const zeros = tf.zerosLike(kernel.read());
  kernel.write(zeros);
  zeros.dispose();
  return true;
}

/** What a training step needs besides the batch: the same for the trainer and for each worker thread (parallel_worker.ts). */
export interface Replica {
  readonly model: tf.LayersModel;
  readonly logits: ((xs: tf.Tensor4D) => tf.Tensor2D) | undefined;
  /** The trainable variables, in the model's trainableWeights order: the order gradients come in. */
  readonly variables: tf.Variable[];
  /** The variables L2 weight decay applies to: every trainable one but batch norm's. */
  readonly decayed: readonly tf.Variable[];
  readonly weightDecay: number;
}

export function replicaOf(model: tf.LayersModel, weightDecay: number): Replica {
  releaseLayerOutputsEarly(model); // memory: see release.ts
  return {
    model,
    logits: logitsOf(model),
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    decayed: model.layers
      .filter((l) => l.getClassName() !== "BatchNormalization")
      .flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)),
    weightDecay,
  };
}

/**
 * A batch's loss and its gradients, without applying them: categorical cross-entropy
 * (from the logits, see logitsOf, else from the probabilities as model.trainOnBatch
 * computes it), plus L2 weight decay as the TPU reference adds it to the loss:
 * weight_decay · Σ tf.nn.l2_loss(v) = weight_decay · Σ v² / 2 over the non-batch-norm
 * trainable weights. Returns the batch's cross-entropy (without the decay term, so it
 * compares with the validation loss) and accuracy, and one gradient per variable of the
 * replica (kept: the caller disposes them). Batch norm normalises with this batch's
 * statistics and updates its moving averages from them, as a training-mode call does.
 */
export function lossAndGradients(
  replica: Replica,
  xs: tf.Tensor4D,
  ys: tf.Tensor2D,
): { loss: number; accuracy: number; gradients: tf.Tensor[] } {
  const { model, logits, variables, decayed, weightDecay } = replica;
  let crossEntropy: tf.Scalar | undefined;
  let accuracy: tf.Scalar | undefined;
  const gradients = tf.tidy(() => {
    const { value, grads } = whileTraining(model, () =>
      tf.variableGrads(() => {
        const scores = logits ? logits(xs) : (model.apply(xs, { training: true }) as tf.Tensor2D);
        const loss = (
          logits ? tf.losses.softmaxCrossEntropy(ys, scores) : tf.mean(tf.metrics.categoricalCrossentropy(ys, scores))
        ) as tf.Scalar;
        crossEntropy = tf.keep(loss.clone());
        // The most probable class is the largest logit: accuracy reads either.
        accuracy = tf.keep(tf.mean(tf.metrics.categoricalAccuracy(ys, scores)) as tf.Scalar);
        if (weightDecay === 0 || decayed.length === 0) return loss;
        return tf.add(loss, tf.mul(weightDecay / 2, tf.addN(decayed.map((v) => tf.sum(tf.square(v)))))) as tf.Scalar;
      }, variables),
    );
    value.dispose();
    return variables.map((v) => grads[v.name]);
  });
  const result = { loss: crossEntropy!.dataSync()[0], accuracy: accuracy!.dataSync()[0], gradients };
  tf.dispose([crossEntropy!, accuracy!]);
  return result;
}

/** The optimiser's update from one gradient per replica variable (disposed here). */
function applyGradients(replica: Replica, optimizer: tf.Optimizer, gradients: tf.Tensor[]): void {
  optimizer.applyGradients(Object.fromEntries(replica.variables.map((v, i) => [v.name, gradients[i]])));
  tf.dispose(gradients);
}

/** One optimisation step on this thread: lossAndGradients, then the optimiser's update. */
function trainStep(
  replica: Replica,
  optimizer: tf.Optimizer,
  dataset: ImageDataset,
  indices: readonly number[],
  augment: ((values: Float32Array, count: number) => void) | undefined,
): { loss: number; accuracy: number } {
  const { xs, ys } = batchTensors(dataset, indices, augment);
  try {
    const { loss, accuracy, gradients } = lossAndGradients(replica, xs, ys);
    applyGradients(replica, optimizer, gradients);
    return { loss, accuracy };
  } finally {
    tf.dispose([xs, ys]);
  }
}

/**
 * One data-parallel optimisation step (parallel.ts): the same batch as trainStep's, split
 * over the workers; their averaged gradients, then the optimiser's update here.
 */
async function parallelStep(
  workers: GradientWorkers,
  replica: Replica,
  optimizer: tf.Optimizer,
  dataset: ImageDataset,
  indices: readonly number[],
  augment: ((values: Float32Array, count: number) => void) | undefined,
  dropouts: readonly SeededDropoutLayer[],
): Promise<{ loss: number; accuracy: number }> {
  const batch = batchValues(dataset, indices, augment);
  const image = { height: dataset.height, width: dataset.width, classes: dataset.classNames.length };
  const { loss, accuracy, gradients, drawn } = await workers.step(
    batch,
    image,
    dropouts.map((l) => l.draws),
  );
  dropouts.forEach((layer, i) => (layer.draws += drawn[i]));
  applyGradients(replica, optimizer, workers.gradientTensors(gradients));
  return { loss, accuracy };
}

export async function trainModel(
  model: tf.LayersModel,
  dataset: ImageDataset,
  options: TrainOptions,
  onProgress: (progress: TrainProgress) => void = () => {},
  onEpochEnd: (summary: EpochSummary) => void = () => {},
): Promise<TrainResult> {
  const outputUnits = (model.outputs[0].shape as (number | null)[]).at(-1);
  if (outputUnits !== dataset.classNames.length) {
    throw new Error(
      `the model predicts ${outputUnits} classes but the data set has ${dataset.classNames.length}; build it with { classes: ${dataset.classNames.length} }`,
    );
  }
  const optimizerName = options.optimizer ?? DEFAULT_OPTIMIZER;
  const recipe = OPTIMIZERS[optimizerName].defaults;
  const baseLearningRate = options.learningRate ?? recipe.learningRate;
  const weightDecay = options.weightDecay ?? recipe.weightDecay;
  const schedule = parseSchedule(options.schedule ?? "constant");
  const seed = options.seed ?? 1;

  const replica = replicaOf(model, weightDecay);
  const optimizer = await OPTIMIZERS[optimizerName].create(baseLearningRate, replica.variables);
  const dropouts = seededDropoutLayers(model);
  const resume = options.resume;
  if (resume) {
    await restoreOptimizer(
      optimizerName,
      optimizer,
      resume.optimizerWeights.map((w) => ({ name: w.name, tensor: w.tensor })),
    );
    dropouts.forEach((layer, i) => (layer.draws = resume.dropoutDraws[i] ?? 0));
  }

  let workers: GradientWorkers | undefined;
  try {
    const batchSize = Math.min(options.batchSize, dataset.count);
    const steps = Math.ceil(dataset.count / batchSize);
    const plannedSteps = Math.min(options.maxSteps ?? Infinity, options.epochs * steps);
    const warmupSteps = Math.round((options.warmupEpochs ?? 0) * steps);
    const preciseImages = Math.min(options.preciseBatchNormImages ?? 256, dataset.count);
    const preciseIndices = shuffledIndices(dataset.count, seededRandom(streamSeed(seed, 0))).slice(0, preciseImages);
    // Whether the moving statistics are precise BN's for the weights as they are (no step since): a second
    // recomputation would measure the same weights on the same images with the same masks, so it is skipped.
    let preciseIsCurrent = false;
    const precise = () => {
      if (preciseIsCurrent) return;
      recomputeBatchNormStatistics(model, dataset, preciseIndices, batchSize);
      preciseIsCurrent = true;
    };
    const size = dataset.height;
    if (resume && resume.totalSteps !== resume.epochsDone * steps)
      throw new RuntimeUserError(
        `the checkpointed run stopped after ${resume.totalSteps} steps, inside epoch ${resume.epochsDone + 1} of ${steps} steps each; only a run that ended at an epoch's end can be resumed exactly`,
      );

    if (options.workers && options.workers.count > 1)
      workers = await GradientWorkers.start(model, options.workers, weightDecay);

    const history: TrainProgress[] = [];
    const epochs: EpochSummary[] = [...(resume?.history ?? [])];
    let totalSteps = resume?.totalSteps ?? 0;
    const earlierSeconds = resume?.elapsedSeconds ?? 0;
    const start = performance.now();
    const elapsed = () => earlierSeconds + (performance.now() - start) / 1000;
    let stepSeconds = 0;
    let sessionSteps = 0;
    let epochsDone = resume?.epochsDone ?? 0;
    const state = async (): Promise<CheckpointState> => ({
      epochsDone,
      totalSteps,
      elapsedSeconds: elapsed(),
      history: [...epochs],
      optimizerWeights: await optimizer.getWeights(),
      dropoutDraws: dropouts.map((l) => l.draws),
    });

    for (let epoch = (resume?.epochsDone ?? 0) + 1; epoch <= options.epochs && totalSteps < plannedSteps; epoch++) {
      const random = seededRandom(streamSeed(seed, epoch));
      const order = shuffledIndices(dataset.count, random);
      const augment = options.augment
        ? (values: Float32Array, count: number) => augmentImages(values, count, size, random)
        : undefined;
      let lossSum = 0;
      let accuracySum = 0;
      let images = 0;
      let epochMs = 0;
      let learningRate = baseLearningRate;
      let step = 0;
      while (step < steps && totalSteps < plannedSteps) {
        step++;
        const indices = order.slice((step - 1) * batchSize, step * batchSize);
        learningRate = learningRateAt(baseLearningRate, schedule, warmupSteps, {
          step: totalSteps,
          stepsPerEpoch: steps,
          totalSteps: options.epochs * steps,
        });
        setLearningRate(optimizer, learningRate);
        const stepStart = performance.now();
        const result = workers
          ? await parallelStep(workers, replica, optimizer, dataset, indices, augment, dropouts)
          : trainStep(replica, optimizer, dataset, indices, augment);
        preciseIsCurrent = false;
        const ms = performance.now() - stepStart;
        epochMs += ms;
        stepSeconds += ms / 1000;
        sessionSteps++;
        totalSteps++;
        lossSum += result.loss * indices.length;
        accuracySum += result.accuracy * indices.length;
        images += indices.length;
        const progress: TrainProgress = {
          epoch,
          epochs: options.epochs,
          step,
          steps,
          totalSteps,
          plannedSteps,
          loss: result.loss,
          accuracy: result.accuracy,
          epochLoss: lossSum / images,
          epochAccuracy: accuracySum / images,
          learningRate,
          imagesPerSecond: images / (epochMs / 1000),
          elapsedSeconds: elapsed(),
          etaSeconds: (stepSeconds / sessionSteps) * (plannedSteps - totalSteps),
        };
        history.push(progress);
        onProgress(progress);
      }
      let validation: { loss: number; accuracy: number } | undefined;
      if (options.validation) {
        if (preciseImages > 0) precise();
        validation = evaluateModel(model, options.validation, batchSize);
      }
      const summary: EpochSummary = {
        epoch,
        steps: step,
        loss: lossSum / images,
        accuracy: accuracySum / images,
        ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}),
        learningRate,
        elapsedSeconds: elapsed(),
      };
      epochs.push(summary);
      onEpochEnd(summary);
      // A run stopped mid-epoch (maxSteps) reports the partial epoch but checkpoints no epoch it did not finish.
      if (step === steps) {
        epochsDone = epoch;
        if (options.onEpoch) await options.onEpoch(await state());
      }
    }
    if (preciseImages > 0) precise();
    if (options.onFinish) await options.onFinish(await state());
    return { history, epochs, seconds: elapsed() - earlierSeconds };
  } finally {
    optimizer.dispose();
    await workers?.close();
  }
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
  // The training-mode pass draws dropout masks; measuring must not change the masks training draws next.
  const dropouts = seededDropoutLayers(model);
  const draws = dropouts.map((l) => l.draws);
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
  dropouts.forEach((l, i) => (l.draws = draws[i]));
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
