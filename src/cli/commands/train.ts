import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { displayPath } from "../../codegen/generate.ts";
import { checkpointFiles, readCheckpoint, type RunSettings } from "../../runtime/checkpoint.ts";
import { loadImageFolder, shapesDataset, splitDataset, type ImageDataset } from "../../runtime/data.ts";
import { RuntimeUserError } from "../../runtime/errors.ts";
import { fineTune, transferBackbone } from "../../runtime/finetune.ts";
import { loadModel, saveModel, type TrainedModelInfo } from "../../runtime/io.ts";
import { type GeneratedModelModule } from "../../runtime/module.ts";
import { variantModuleUrl } from "../../codegen/import-module.ts";
import { autoWorkers, TrainingWorkerError, type WorkerOptions } from "../../runtime/parallel.ts";
import { DEFAULT_OPTIMIZER, OPTIMIZERS, optimizerNamed, parseSchedule, SCHEDULES } from "../../runtime/optimizers.ts";
import {
  scaleDropConnect,
  trainModel,
  zeroClassifier,
  type EpochSummary,
  type TrainOptions,
  type TrainProgress,
} from "../../runtime/train.ts";
import type { CompiledVariant } from "../../compile.ts";
import { diagnostic } from "../../diagnostics/diagnostic.ts";
import {
  duration,
  EXIT,
  NUMBER_RULES,
  reportDiagnostics,
  UsageError,
  type CommandDef,
  type Invocation,
} from "../command.ts";
import { BACKEND_OPTION, backendOption, compileOneVariant, SINGLE_VARIANT_OPTIONS } from "../model-command.ts";
import { refusedForMemory } from "./memory_check.ts";

const timing = (elapsed: number, eta: number) => `${duration(elapsed)} elapsed, ETA ${duration(eta)}`;

/** One line of progress: what Keras's progress bar shows, plus throughput, elapsed time and ETA. */
function progressLine(p: TrainProgress): string {
  const width = String(p.steps).length;
  return `epoch ${p.epoch}/${p.epochs}  step ${String(p.step).padStart(width)}/${p.steps}  loss ${p.epochLoss.toFixed(4)}  accuracy ${p.epochAccuracy.toFixed(3)}  ${p.imagesPerSecond.toFixed(1)} images/s  ${timing(p.elapsedSeconds, p.etaSeconds)}`;
}

/** The line that ends an epoch: its means, the validation (Keras's val_loss, val_accuracy), the learning rate. */
function epochLine(e: EpochSummary, epochs: number, eta: number): string {
  const validation =
    e.validationLoss === undefined
      ? ""
      : `  val_loss ${e.validationLoss.toFixed(4)}  val_accuracy ${e.validationAccuracy!.toFixed(3)}`;
  return `epoch ${e.epoch}/${epochs}  loss ${e.loss.toFixed(4)}  accuracy ${e.accuracy.toFixed(3)}${validation}  lr ${Number(e.learningRate.toPrecision(3))}  ${timing(e.elapsedSeconds, eta)}`;
}

/**
 * A terminal redraws one line in place and ends each epoch with its summary line; a log
 * (CI, a pipe) gets a plain line about every tenth of an epoch and the summary line.
 */
function progressPrinter(inv: Invocation): {
  step: (p: TrainProgress) => void;
  epoch: (e: EpochSummary) => void;
} {
  let last: TrainProgress | undefined;
  const epoch = (e: EpochSummary) =>
    inv.io.err(
      `${inv.io.interactive ? "\r\x1b[2K" : ""}${epochLine(e, last?.epochs ?? e.epoch, last?.etaSeconds ?? 0)}\n`,
    );
  if (inv.io.interactive) {
    return {
      step: (p) => {
        last = p;
        inv.io.err(`\r\x1b[2K${progressLine(p)}`);
      },
      epoch,
    };
  }
  return {
    step: (p) => {
      last = p;
      const every = Math.max(1, Math.ceil(p.steps / 10));
      if (p.step === p.steps || p.step % every === 0) inv.io.err(`${progressLine(p)}\n`);
    },
    epoch,
  };
}

export const DEFAULT_SYNTHETIC_IMAGES = 240;
const DEFAULT_EPOCHS = 5;
const DEFAULT_BATCH_SIZE = 16;

/** Options that fix how a run goes; a resumed run takes them from its checkpoint. */
const RUN_OPTIONS = [
  "data",
  "synthetic",
  "images",
  "resolution",
  "batch-size",
  "optimizer",
  "lr",
  "learning-rate",
  "weight-decay",
  "lr-schedule",
  "warmup",
  "validation",
  "augment",
  "zero-head",
  "dropout",
  "drop-connect",
  "seed",
  "shapes",
  "weights",
  "freeze",
  "freeze-epochs",
  "head-learning-rate",
  "workers",
] as const;

/**
 * How many worker threads split each batch: --workers N, or `auto` (the default), which
 * parallel.ts's autoWorkers decides from the backend, the batch and the resolution. A
 * number past the batch is cut to it (a worker needs an image); one past the machine's
 * cores is kept, with a note: the threads take turns, the results are the same.
 */
function resolveWorkers(
  asked: number | "auto",
  backendName: string,
  batch: number,
  resolution: number,
): { count: number; note: string } {
  if (asked === "auto") {
    const count = autoWorkers(backendName, batch, resolution);
    return { count, note: `auto: ${workersReason(backendName, count)}` };
  }
  if (asked > 1 && backendName !== "wasm" && backendName !== "cpu")
    return {
      count: 1,
      note: `the ${backendName} backend already runs its kernels on all cores: --workers ${asked} is ignored`,
    };
  const count = Math.min(asked, batch);
  const cores = availableParallelism();
  const notes = [
    count < asked ? `cut to the batch of ${batch}` : "",
    count > cores
      ? `more than this machine's ${cores} cores: the threads take turns, with the same results, not faster`
      : "",
  ].filter(Boolean);
  return { count, note: notes.join("; ") };
}

/** --workers as given: a whole number ≥ 1, or auto (the default). */
function parseWorkers(inv: Invocation): number | "auto" {
  const text = inv.string("workers") ?? "auto";
  if (text === "auto") return text;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--workers must be a whole number ≥ 1 or auto, not \`${text}\``);
  return value;
}

function workersReason(backendName: string, count: number): string {
  if (backendName !== "wasm" && backendName !== "cpu") return `the ${backendName} backend uses all cores itself`;
  if (count > 1) return "one per core";
  return availableParallelism() === 1 ? "this machine has one core" : "a batch this small trains faster on one thread";
}

/** The run's settings from the command line (a new run). */
function settingsFromCommandLine(
  inv: Invocation,
  compiled: CompiledVariant,
  module: GeneratedModelModule,
): RunSettings {
  const dataDir = inv.string("data");
  const synthetic = inv.options.synthetic === true;
  if (Boolean(dataDir) === synthetic) throw new UsageError("give either --data DIR or --synthetic");
  if (inv.string("lr") !== undefined && inv.string("learning-rate") !== undefined)
    throw new UsageError("give --lr or --learning-rate, not both");
  let optimizer: string;
  try {
    optimizer = optimizerNamed(inv.string("optimizer") ?? DEFAULT_OPTIMIZER);
    parseSchedule(inv.string("lr-schedule") ?? "constant");
  } catch (e) {
    if (e instanceof RuntimeUserError) throw new UsageError(e.userMessage);
    throw e;
  }
  const recipe = OPTIMIZERS[optimizer as keyof typeof OPTIMIZERS].defaults;
  const learningRate =
    inv.string("lr") !== undefined
      ? inv.number("lr", 0, NUMBER_RULES.positive)
      : inv.number("learning-rate", recipe.learningRate, NUMBER_RULES.positive);
  return {
    spec: displayPath(inv.positionals[0]),
    network: compiled.ir.network,
    variant: compiled.ir.variant,
    resolution: inv.integer("resolution", module.metadata.resolution, 8),
    classNames: [],
    data: synthetic ? "synthetic" : dataDir!,
    images: inv.integer("images", DEFAULT_SYNTHETIC_IMAGES),
    validation: inv.number("validation", 0, NUMBER_RULES.fraction),
    seed: inv.integer("seed", 1, 0),
    batchSize: inv.integer("batch-size", DEFAULT_BATCH_SIZE),
    epochs: inv.integer("epochs", DEFAULT_EPOCHS),
    optimizer,
    learningRate,
    weightDecay: inv.number("weight-decay", recipe.weightDecay, NUMBER_RULES.nonNegative),
    schedule: inv.string("lr-schedule") ?? "constant",
    warmupEpochs: inv.number("warmup", 0, NUMBER_RULES.nonNegative),
    augment: inv.options.augment === true,
    zeroHead: inv.options["zero-head"] === true,
    dropout: inv.number("dropout", module.metadata.dropout, NUMBER_RULES.rate),
    dropConnect: dropConnectRate(inv, compiled),
  };
}

/** --drop-connect R: the spec's drop_connect replaced by R; a spec without drop connect has no layers to give a rate. */
function dropConnectRate(inv: Invocation, compiled: CompiledVariant): number {
  const reference = compiled.scaled.spec.dropConnect;
  const value = inv.number("drop-connect", reference, NUMBER_RULES.rate);
  if (value > 0 && reference === 0)
    throw new UsageError(
      `--drop-connect ${value}: ${compiled.ir.network} has no drop connect (its spec's drop_connect is 0), so there is no rate to change`,
    );
  return value;
}

/** What the workers build their replicas from: the generated module this command imported, with the model's build options. */
function workerOptions(
  module: GeneratedModelModule,
  count: number,
  classes: number,
  resolution: number,
  seed: number,
): WorkerOptions {
  const url = variantModuleUrl(module);
  if (!url) throw new Error("the variant's module was not imported by importVariantModule");
  return { count, module: url, build: { classes, resolution, seed } };
}

/** Runs the training; a failed worker thread is EFF0008 (one coded line and a hint), and undefined. */
async function reportWorkerFailure<T>(inv: Invocation, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof TrainingWorkerError)) throw e;
    if (inv.io.interactive) inv.io.err("\r\x1b[2K");
    reportDiagnostics(
      [
        diagnostic("EFF0008", { worker: `${e.worker + 1} of ${e.workers}`, reason: e.reason }, undefined, {
          help: "EFFNET_DEBUG=1 shows the worker's own output; --workers 1 trains on this thread; out of memory: a smaller --batch-size",
        }),
      ],
      undefined,
      inv.io,
      false,
    );
    return undefined;
  }
}

export const trainCommand: CommandDef = {
  name: "train",
  summary: "train a compiled variant on an image folder or the built-in shapes data set, and save it",
  usage:
    "effnet train FILE --variant NAME (--data DIR | --synthetic) [--resolution N] [--epochs N] [--batch-size N] [--validation F] [--optimizer NAME] [--lr X] [--augment] [--out DIR | --resume DIR]",
  details: `Builds the variant's generated model (the module \`effnet compile\` writes) with as many classes as the data has and its reference initialisation, seeded, trains it on categorical cross-entropy, and saves model.json + weights.bin to --out (default models/<network>_<variant>), loadable by \`effnet predict\` and \`effnet eval\`, tf.loadLayersModel, or tfjs-node. Beside them: history.json (loss, accuracy and validation per epoch) and a checkpoint (training.json, optimizer.bin), written after every epoch, which --resume DIR continues exactly. --data reads DIR/<class>/<image>.png|jpg, one sub-folder per class, resized to the variant's resolution or --resolution; --synthetic uses a deterministic data set of coloured shapes (circle, square, triangle) drawn in code, so no download is needed. Pixels go into the model in [0, 255]; its convention's preprocessing is inside it. --validation F holds out a seeded, stratified fraction F of the images and measures it after every epoch. Optimisers: ${Object.entries(
    OPTIMIZERS,
  )
    .map(
      ([name, o]) =>
        `${name}: ${o.description}, default lr ${o.defaults.learningRate}, weight decay ${o.defaults.weightDecay}`,
    )
    .join("; ")}. Schedules: ${Object.values(SCHEDULES)
    .map((s) => `${s.syntax} (${s.description})`)
    .join(
      ", ",
    )}. The same --seed (initial weights, dropout masks, shuffles, augmentation, synthetic data) on the same backend repeats a run bit for bit. --workers N splits each batch over N worker threads (one core each, on wasm and cpu) and averages their gradients: batch norm normalises each shard on its own, so the result equals one thread accumulating gradients over the same N shards, and repeats with the same seed and the same N.`,
  positionals: { min: 1, max: 1 },
  options: {
    ...SINGLE_VARIANT_OPTIONS,
    data: {
      type: "string",
      short: "d",
      value: "DIR",
      description: "image folder: one sub-folder of PNG/JPEG images per class",
    },
    synthetic: { type: "boolean", description: "train on the built-in shapes data set instead of --data" },
    images: {
      type: "string",
      value: "N",
      description: `with --synthetic, how many images (default ${DEFAULT_SYNTHETIC_IMAGES})`,
    },
    resolution: {
      type: "string",
      short: "r",
      value: "N",
      description: "input height and width in pixels (default: the variant's)",
    },
    epochs: { type: "string", short: "e", value: "N", description: `passes over the data (default ${DEFAULT_EPOCHS})` },
    "batch-size": { type: "string", value: "N", description: `images per step (default ${DEFAULT_BATCH_SIZE})` },
    steps: {
      type: "string",
      value: "N",
      description: "stop after N steps in all (default: every step of every epoch)",
    },
    validation: {
      type: "string",
      value: "F",
      description: "hold out this fraction of the images (e.g. 0.2) and report val_loss and val_accuracy per epoch",
    },
    optimizer: {
      type: "string",
      value: "NAME",
      description: `${Object.keys(OPTIMIZERS).join(", ")} (default ${DEFAULT_OPTIMIZER})`,
    },
    lr: { type: "string", value: "X", description: "learning rate (default: the optimizer's recipe)" },
    "learning-rate": { type: "string", value: "X", description: "the same as --lr" },
    "lr-schedule": {
      type: "string",
      value: "S",
      description: `${Object.values(SCHEDULES)
        .map((s) => s.syntax)
        .join(", ")} (default constant)`,
    },
    warmup: { type: "string", value: "EPOCHS", description: "linear learning-rate warm-up from 0 (default 0)" },
    "weight-decay": {
      type: "string",
      value: "X",
      description: "L2 weight decay on all but batch norm (default: the optimizer's recipe)",
    },
    augment: { type: "boolean", description: "random-resized crops (≥ 50% of the area) and horizontal flips" },
    "zero-head": {
      type: "boolean",
      description:
        "start the classifier's kernel at zero, as ViT and BiT do for a new head, instead of the reference's ±√(1/classes), which for a few classes starts saturated",
    },
    dropout: {
      type: "string",
      value: "RATE",
      description: "dropout rate before the classifier (default: the variant's, 0.2 for B0)",
    },
    "drop-connect": {
      type: "string",
      value: "RATE",
      description:
        "drop connect (stochastic depth) rate in place of the spec's drop_connect (0.2): block b of n drops R·b/n of the examples, as Keras's drop_connect_rate",
    },
    seed: {
      type: "string",
      value: "N",
      description: "seed of the initial weights, dropout, shuffles, augmentation and synthetic data (default 1)",
    },
    shapes: {
      type: "string",
      value: "A,B",
      description: "with --synthetic, which shapes are the classes (default circle,square,triangle)",
    },
    weights: {
      type: "string",
      short: "w",
      value: "DIR",
      description:
        "fine-tune: start from the model saved in DIR (same variant; `effnet train` or `effnet weights import`), with a new classifier for the data's classes",
    },
    freeze: {
      type: "string",
      value: "features",
      description: "with --weights, train the classifier alone for the first --freeze-epochs, then everything",
    },
    "freeze-epochs": { type: "string", value: "N", description: "epochs with the features frozen (default 1)" },
    workers: {
      type: "string",
      value: "N|auto",
      description:
        "worker threads that split each batch, each with its own backend; gradients are averaged (data-parallel). Default auto: one per core where it pays, on wasm and cpu",
    },
    "head-learning-rate": {
      type: "string",
      value: "X",
      description: "learning rate while the features are frozen (default 10 × --lr)",
    },
    out: {
      type: "string",
      short: "o",
      value: "DIR",
      description: "where to save the model, its history and checkpoint",
    },
    resume: {
      type: "string",
      value: "DIR",
      description: "continue the run checkpointed in DIR (with its settings; --epochs may extend it)",
    },
    ...BACKEND_OPTION,
  },
  needs: {
    images: "synthetic",
    shapes: "synthetic",
    "freeze-epochs": "freeze",
    "head-learning-rate": "freeze",
  },
  examples: [
    "effnet train specs/efficientnet.effnet --variant B0 --synthetic --resolution 48 --images 4500 --validation 0.2 --epochs 2 --batch-size 32 --lr 0.006 --warmup 0.3 --dropout 0 --drop-connect 0 --zero-head --out models/b0-shapes",
    "effnet train specs/efficientnet.effnet --variant B0 --resume models/b0-shapes --epochs 3",
    "effnet train specs/efficientnet.effnet --variant B0 --data photos/ --optimizer rmsprop --lr 0.016 --lr-schedule exponential:0.97/2.4",
    "effnet train specs/efficientnet.effnet --variant B0 --synthetic --weights models/b0-imagenet --freeze features --freeze-epochs 2 --out models/b0-tuned",
  ],
  run: async (inv) => {
    const resumeDir = inv.string("resume");
    if (resumeDir) {
      const given = RUN_OPTIONS.filter((name) => inv.options[name] !== undefined);
      if (given.length > 0)
        throw new UsageError(
          `--resume continues the run with the settings in ${resumeDir}/training.json; leave out ${given.map((n) => `--${n}`).join(", ")}`,
        );
    }
    const maxSteps = inv.string("steps") === undefined ? undefined : inv.integer("steps", 1);
    const backendRequest = backendOption(inv);
    const askedWorkers = parseWorkers(inv);

    const loaded = await compileOneVariant(inv);
    if (!loaded) return EXIT.errors;
    const { compiled, module } = loaded;
    const checkpoint = resumeDir ? readCheckpoint(resumeDir) : undefined;
    const settings: RunSettings = checkpoint
      ? { ...checkpoint.settings, epochs: inv.integer("epochs", checkpoint.settings.epochs) }
      : settingsFromCommandLine(inv, compiled, module);
    if (checkpoint && (settings.network !== compiled.ir.network || settings.variant !== compiled.ir.variant))
      throw new RuntimeUserError(
        `${resumeDir} checkpoints ${settings.network} ${settings.variant}, not ${compiled.ir.network} ${compiled.ir.variant}`,
      );
    const out = inv.string("out") ?? resumeDir ?? `models/${compiled.ir.network}_${compiled.ir.variant}`.toLowerCase();
    const { resolution, seed } = settings;

    const backend = await backendRequest.use();
    inv.io.err(`backend: ${backend.name} (${backend.reason})\n`);

    const synthetic = settings.data === "synthetic";
    const shapes = inv.list("shapes");
    const weightsDir = inv.string("weights");
    const freeze = inv.string("freeze");
    if (freeze !== undefined && freeze !== "features")
      throw new UsageError(`--freeze takes \`features\`, not \`${freeze}\``);
    if (freeze && !weightsDir)
      throw new UsageError("--freeze features needs --weights DIR: a new classifier on trained features");
    const freezeEpochs = freeze ? inv.integer("freeze-epochs", 1) : 0;
    const headLearningRate = inv.number("head-learning-rate", 10 * settings.learningRate, NUMBER_RULES.nonNegative);
    const all: ImageDataset = synthetic
      ? shapesDataset({ count: settings.images, resolution, seed, ...(shapes.length ? { shapes } : {}) })
      : loadImageFolder(settings.data, { resolution });
    const { train, validation } =
      settings.validation > 0 ? splitDataset(all, settings.validation, seed) : { train: all, validation: undefined };
    inv.io.err(
      `data: ${all.count} images of ${all.classNames.length} classes (${all.classNames.join(", ")}) at ${resolution}×${resolution}${synthetic ? ", synthetic shapes" : ` from ${settings.data}`}${validation ? `; ${train.count} for training, ${validation.count} held out` : ""}\n`,
    );

    // Memory: refuse before anything is allocated (EFF0007), unless --allow-huge.
    const memory = { batch: Math.min(settings.batchSize, train.count), resolution, classes: all.classNames.length };
    if (refusedForMemory(inv, compiled, memory, backend.name, "--batch-size")) return EXIT.errors;

    // Older checkpoints have no dropout settings: they trained with the reference's.
    const dropout = settings.dropout ?? module.metadata.dropout;
    const dropConnect = settings.dropConnect ?? compiled.scaled.spec.dropConnect;
    const model = module.buildModel({ classes: all.classNames.length, resolution, seed, dropout });
    if (dropConnect !== compiled.scaled.spec.dropConnect)
      scaleDropConnect(model, dropConnect / compiled.scaled.spec.dropConnect);
    if (settings.zeroHead && !checkpoint && !zeroClassifier(model))
      throw new UsageError(
        `--zero-head: ${compiled.ir.network} ${compiled.ir.variant} does not end in a dense classifier`,
      );
    const info: TrainedModelInfo = {
      network: compiled.ir.network,
      variant: compiled.ir.variant,
      resolution,
      classNames: all.classNames,
      convention: compiled.ir.convention.name,
    };
    const batch = Math.min(settings.batchSize, train.count);
    const workers = checkpoint
      ? { count: settings.workers ?? 1, note: `as the checkpointed run` }
      : resolveWorkers(askedWorkers, backend.name, batch, resolution);
    const runSettings: RunSettings = { ...settings, classNames: all.classNames, workers: workers.count };
    if (workers.count > 1 || inv.string("workers") !== undefined)
      inv.io.err(
        `workers: ${workers.count === 1 ? "1 (this thread)" : `${workers.count} threads, ${Math.ceil(batch / workers.count)} images each per step, gradients averaged`}${workers.note ? ` (${workers.note})` : ""}\n`,
      );
    inv.io.err(
      `model: ${compiled.ir.network} ${compiled.ir.variant}, ${model.countParams().toLocaleString("en-US")} parameters, ${module.metadata.initialization} initialisation (seed ${seed}); ${settings.optimizer}, lr ${settings.learningRate}${settings.schedule === "constant" ? "" : ` (${settings.schedule})`}, weight decay ${settings.weightDecay}, dropout ${dropout}, drop connect ${dropConnect}${settings.augment ? ", augmented" : ""}${settings.zeroHead ? ", zero head" : ""}\n`,
    );
    try {
      if (checkpoint) {
        if (checkpoint.settings.classNames.join("\n") !== all.classNames.join("\n"))
          throw new RuntimeUserError(
            `${resumeDir} was trained on other classes (${checkpoint.settings.classNames.join(", ")})`,
          );
        const { model: saved } = await loadModel(resumeDir!);
        for (const layer of model.layers)
          if (layer.weights.length > 0) layer.setWeights(saved.getLayer(layer.name).getWeights());
        saved.dispose();
        inv.io.err(`resuming after epoch ${checkpoint.state.epochsDone} (${checkpoint.state.totalSteps} steps)\n`);
      }
      if (weightsDir && !checkpoint) {
        const pretrained = await loadModel(weightsDir);
        try {
          const { layers } = transferBackbone(pretrained.model, model, weightsDir);
          inv.io.err(
            `weights: ${layers} layers from ${weightsDir}, a new ${all.classNames.length}-class classifier${freeze ? `; features frozen for ${freezeEpochs} epoch(s) at learning rate ${headLearningRate}` : ""}\n`,
          );
        } finally {
          pretrained.model.dispose();
        }
      }
      const printer = progressPrinter(inv);
      const save = async (state: Parameters<typeof checkpointFiles>[2], finished: boolean) =>
        saveModel(model, out, info, await checkpointFiles(info, runSettings, state, finished));
      const trainOptions: TrainOptions = {
        epochs: settings.epochs,
        batchSize: settings.batchSize,
        optimizer: optimizerNamed(settings.optimizer),
        learningRate: settings.learningRate,
        weightDecay: settings.weightDecay,
        schedule: settings.schedule,
        warmupEpochs: settings.warmupEpochs,
        seed,
        augment: settings.augment,
        ...(validation ? { validation } : {}),
        ...(maxSteps ? { maxSteps } : {}),
        ...(checkpoint ? { resume: checkpoint.state } : {}),
        ...(workers.count > 1
          ? { workers: workerOptions(module, workers.count, all.classNames.length, resolution, seed) }
          : {}),
        onEpoch: (state) => save(state, false),
        // The final save carries the precise batch-norm statistics trainModel ends with.
        onFinish: (state) => save(state, true),
      };
      const result = await reportWorkerFailure(inv, () =>
        freeze && !checkpoint
          ? fineTune(model, train, { ...trainOptions, freezeEpochs, headLearningRate }, printer.step, printer.epoch)
          : trainModel(model, train, trainOptions, printer.step, printer.epoch),
      );
      if (!result) return EXIT.errors;
      if (checkpoint) tf.dispose(checkpoint.state.optimizerWeights.map((w) => w.tensor));
      const last = result.epochs.at(-1);
      inv.io.out(
        `trained ${result.history.length} steps in ${result.seconds.toFixed(1)} s${last ? `, last epoch loss ${last.loss.toFixed(4)} accuracy ${last.accuracy.toFixed(3)}${last.validationAccuracy === undefined ? "" : ` val_accuracy ${last.validationAccuracy.toFixed(3)}`}` : ""}; saved ${out}/model.json, weights.bin and history.json\n`,
      );
    } finally {
      model.dispose();
    }
    return EXIT.ok;
  },
};
