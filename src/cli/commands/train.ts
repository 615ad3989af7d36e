import * as tf from "@tensorflow/tfjs";
import { displayPath } from "../../codegen/generate.ts";
import { selectBackend, type BackendChoice, type SelectedBackend } from "../../runtime/backend.ts";
import { refusedForMemory } from "./memory_check.ts";
import { loadImageFolder, shapesDataset, type ImageDataset } from "../../runtime/data.ts";
import { RuntimeUserError } from "../../runtime/errors.ts";
import { fineTune, transferBackbone } from "../../runtime/finetune.ts";
import { loadModel, saveModel } from "../../runtime/io.ts";
import { importVariantModule, type GeneratedModelModule } from "../../runtime/model.ts";
import { DEFAULT_LEARNING_RATE, trainModel, type TrainProgress } from "../../runtime/train.ts";
import type { CompiledVariant } from "../../compile.ts";
import {
  compileFile,
  EXIT,
  listOption,
  stringOption,
  UsageError,
  type CommandDef,
  type Invocation,
  type OptionDef,
} from "../command.ts";

// ---------------------------------------------------------------------------------------
// Shared by train, predict and bench-model.

const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "wasm", "cpu", "tensorflow"];

export const BACKEND_OPTION: Record<string, OptionDef> = {
  backend: {
    type: "string",
    short: "b",
    value: "NAME",
    description:
      "auto (default: tfjs-node if installed, else wasm, else cpu), wasm, cpu or tensorflow (needs @tensorflow/tfjs-node)",
  },
};

export function parseBackend(value: string | undefined): BackendChoice {
  const choice = (value ?? "auto") as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice))
    throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(", ")}, not \`${value}\``);
  return choice;
}

/** Activates a backend; one the user asked for that cannot run is their error, not a crash. */
export async function useBackend(choice: BackendChoice): Promise<SelectedBackend> {
  // Production mode: no debug checks, and no "install tfjs-node" banner from the cpu backend
  // (tfjs-backend-cpu warns unless PROD or IS_TEST is set); the choice is reported instead.
  tf.enableProdMode();
  // BackendUnavailableError is a RuntimeUserError: the CLI prints its message cleanly.
  return selectBackend(choice);
}

/** A whole number ≥ min from an option, or a usage error naming the option. */
export function integerOption(inv: Invocation, name: string, fallback: number, min = 1): number {
  const text = stringOption(inv, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, not \`${text}\``);
  return value;
}

export function numberOption(inv: Invocation, name: string, fallback: number): number {
  const text = stringOption(inv, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(Number.isFinite(value) && value > 0))
    throw new UsageError(`--${name} must be a positive number, not \`${text}\``);
  return value;
}

/**
 * Compiles FILE for exactly one --variant and imports its generated module. Diagnostics
 * are printed; `undefined` means the spec has errors (exit 1).
 */
export async function compileOneVariant(
  inv: Invocation,
): Promise<{ compiled: CompiledVariant; module: GeneratedModelModule } | undefined> {
  const variants = listOption(inv, "variant");
  if (variants.length !== 1)
    throw new UsageError(variants.length === 0 ? "--variant NAME is required" : "give one --variant");
  const path = inv.positionals[0];
  const { compilation } = compileFile(path, { variants, allowHuge: inv.options["allow-huge"] === true }, inv.io);
  if (!compilation?.ok || compilation.variants.length !== 1) return undefined;
  const compiled = compilation.variants[0];
  return { compiled, module: await importVariantModule(compiled, displayPath(path)) };
}

export const SINGLE_VARIANT_OPTIONS: Record<string, OptionDef> = {
  variant: { type: "string", short: "v", multiple: true, value: "NAME", description: "the variant (required)" },
  "allow-huge": {
    type: "boolean",
    description: "build variants past the size limits, and train batches past the backend's memory limit",
  },
};

// ---------------------------------------------------------------------------------------

/** One line of progress: what Keras's progress bar shows, plus throughput. */
function progressLine(p: TrainProgress): string {
  const width = String(p.steps).length;
  return `epoch ${p.epoch}/${p.epochs}  step ${String(p.step).padStart(width)}/${p.steps}  loss ${p.epochLoss.toFixed(4)}  accuracy ${p.epochAccuracy.toFixed(3)}  ${p.imagesPerSecond.toFixed(1)} images/s`;
}

/**
 * A terminal redraws one line in place; a log (CI, a pipe) gets a plain line about every
 * tenth of an epoch and at each epoch's end, so it stays readable and short.
 */
function progressPrinter(inv: Invocation): (p: TrainProgress) => void {
  if (inv.io.interactive) {
    return (p) => inv.io.err(`\r\x1b[2K${progressLine(p)}${p.step === p.steps ? "\n" : ""}`);
  }
  return (p) => {
    const every = Math.max(1, Math.ceil(p.steps / 10));
    if (p.step === p.steps || p.step % every === 0) inv.io.err(`${progressLine(p)}\n`);
  };
}

export const DEFAULT_SYNTHETIC_IMAGES = 240;

export const trainCommand: CommandDef = {
  name: "train",
  summary: "train a compiled variant on an image folder or the built-in shapes data set, and save it",
  usage:
    "effnet train FILE --variant NAME (--data DIR | --synthetic) [--resolution N] [--epochs N] [--batch-size N] [--out DIR]",
  details:
    "Builds the variant's generated model (the module `effnet compile` writes) with as many classes as the data has, trains it with Adam on categorical cross-entropy, and saves model.json + weights.bin to --out (default models/<network>_<variant>), loadable by `effnet predict`, tf.loadLayersModel, or tfjs-node. --data reads DIR/<class>/<image>.png|jpg, one sub-folder per class, resized to the variant's resolution or --resolution; --synthetic uses a deterministic data set of coloured shapes (circle, square, triangle) drawn in code, so no download is needed. Pixels go into the model in [0, 255]; its convention's preprocessing (src/semantics/conventions.ts) is inside it. A model whose classifier outputs logits (the torchvision convention) trains on softmax cross-entropy of the logits.",
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
    epochs: { type: "string", short: "e", value: "N", description: "passes over the data (default 5)" },
    "batch-size": { type: "string", value: "N", description: "images per step (default 16)" },
    steps: {
      type: "string",
      value: "N",
      description: "stop after N steps in all (default: every step of every epoch)",
    },
    "learning-rate": {
      type: "string",
      value: "X",
      description: `Adam's learning rate (default ${DEFAULT_LEARNING_RATE})`,
    },
    seed: { type: "string", value: "N", description: "seed of the shuffles and of the synthetic data (default 1)" },
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
    "head-learning-rate": {
      type: "string",
      value: "X",
      description: "learning rate while the features are frozen (default 10 × --learning-rate)",
    },
    out: { type: "string", short: "o", value: "DIR", description: "where to save model.json and weights.bin" },
    ...BACKEND_OPTION,
  },
  examples: [
    "effnet train specs/efficientnet.effnet --variant B0 --synthetic --resolution 32 --epochs 3 --out models/b0-shapes",
    "effnet train specs/mobilenetv2.effnet --variant V2 --data photos/ --resolution 96 --backend wasm",
    "effnet train specs/efficientnet.effnet --variant B0 --synthetic --weights models/b0-imagenet --freeze features --freeze-epochs 2 --out models/b0-tuned",
  ],
  run: async (inv) => {
    const dataDir = stringOption(inv, "data");
    const synthetic = inv.options.synthetic === true;
    if (Boolean(dataDir) === synthetic) throw new UsageError("give either --data DIR or --synthetic");
    const epochs = integerOption(inv, "epochs", 5);
    const batchSize = integerOption(inv, "batch-size", 16);
    const seed = integerOption(inv, "seed", 1, 0);
    const learningRate = numberOption(inv, "learning-rate", DEFAULT_LEARNING_RATE);
    const maxSteps = stringOption(inv, "steps") === undefined ? undefined : integerOption(inv, "steps", 1);
    const backendChoice = parseBackend(stringOption(inv, "backend"));
    const images = integerOption(inv, "images", DEFAULT_SYNTHETIC_IMAGES);
    const shapes = listOption(inv, "shapes");
    const weightsDir = stringOption(inv, "weights");
    const freeze = stringOption(inv, "freeze");
    if (freeze !== undefined && freeze !== "features")
      throw new UsageError(`--freeze takes \`features\`, not \`${freeze}\``);
    if (freeze && !weightsDir)
      throw new UsageError("--freeze features needs --weights DIR: a new classifier on trained features");
    const freezeEpochs = freeze ? integerOption(inv, "freeze-epochs", 1) : 0;
    const headLearningRate = numberOption(inv, "head-learning-rate", 10 * learningRate);

    const loaded = await compileOneVariant(inv);
    if (!loaded) return EXIT.errors;
    const { compiled, module } = loaded;
    const resolution = integerOption(inv, "resolution", module.metadata.resolution, 8);
    const out = stringOption(inv, "out") ?? `models/${compiled.ir.network}_${compiled.ir.variant}`.toLowerCase();

    const backend = await useBackend(backendChoice);
    inv.io.err(`backend: ${backend.name} (${backend.reason})\n`);

    const dataset: ImageDataset = synthetic
      ? shapesDataset({ count: images, resolution, seed, ...(shapes.length ? { shapes } : {}) })
      : loadImageFolder(dataDir!, { resolution });
    inv.io.err(
      `data: ${dataset.count} images of ${dataset.classNames.length} classes (${dataset.classNames.join(", ")}) at ${resolution}×${resolution}${synthetic ? ", synthetic shapes" : ` from ${dataDir}`}\n`,
    );

    // Memory: refuse before anything is allocated (EFF0007), unless --allow-huge.
    const memory = { batch: Math.min(batchSize, dataset.count), resolution, classes: dataset.classNames.length };
    if (refusedForMemory(inv, compiled, memory, backend.name, "--batch-size")) return EXIT.errors;

    const model = module.buildModel({ classes: dataset.classNames.length, resolution });
    inv.io.err(
      `model: ${compiled.ir.network} ${compiled.ir.variant}, ${model.countParams().toLocaleString("en-US")} parameters\n`,
    );
    try {
      if (weightsDir) {
        const pretrained = await loadModel(weightsDir);
        try {
          const { layers } = transferBackbone(pretrained.model, model, weightsDir);
          inv.io.err(
            `weights: ${layers} layers from ${weightsDir}, a new ${dataset.classNames.length}-class classifier${freeze ? `; features frozen for ${freezeEpochs} epoch(s) at learning rate ${headLearningRate}` : ""}\n`,
          );
        } finally {
          pretrained.model.dispose();
        }
      }
      const trainOptions = { epochs, batchSize, learningRate, seed, ...(maxSteps ? { maxSteps } : {}) };
      const result = freeze
        ? await fineTune(model, dataset, { ...trainOptions, freezeEpochs, headLearningRate }, progressPrinter(inv))
        : await trainModel(model, dataset, trainOptions, progressPrinter(inv));
      const last = result.history.at(-1);
      await saveModel(model, out, {
        network: compiled.ir.network,
        variant: compiled.ir.variant,
        resolution,
        classNames: dataset.classNames,
        convention: compiled.ir.convention.name,
      });
      inv.io.out(
        `trained ${result.history.length} steps in ${result.seconds.toFixed(1)} s${last ? `, last epoch loss ${last.epochLoss.toFixed(4)} accuracy ${last.epochAccuracy.toFixed(3)}` : ""}; saved ${out}/model.json and ${out}/weights.bin\n`,
      );
    } finally {
      model.dispose();
    }
    return EXIT.ok;
  },
};
