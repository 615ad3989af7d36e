import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fsReason, RuntimeUserError } from "./errors.ts";
import type { TrainedModelInfo } from "./io.ts";
import type { EpochSummary, ResumeState } from "./train.ts";

/**
 * A training run's checkpoint, written beside the model after every epoch (in the same
 * atomic save as model.json and weights.bin): `training.json` with the run's settings and
 * where it stands, `optimizer.bin` with the optimiser's state (tfjs's weight encoding,
 * described in training.json), and `history.json` with the epochs so far. `effnet train
 * --resume DIR` continues from it exactly: same weights, optimiser state, dropout draws,
 * and the shuffles and augmentation of the epochs still to come.
 */

export const TRAINING_JSON = "training.json";
export const OPTIMIZER_BIN = "optimizer.bin";
export const HISTORY_JSON = "history.json";

/** The settings a resumed run must share with the one it continues (the command line may not change them). */
export interface RunSettings {
  readonly spec: string;
  readonly network: string;
  readonly variant: string;
  readonly resolution: number;
  readonly classNames: readonly string[];
  readonly data: string;
  readonly images: number;
  readonly validation: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly optimizer: string;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly schedule: string;
  readonly warmupEpochs: number;
  readonly augment: boolean;
  /** The classifier's kernel started at zero (zeroClassifier). */
  readonly zeroHead: boolean;
  /** Worker threads that split each batch (parallel.ts; absent in older checkpoints: 1). Shards change batch norm's statistics, so a resumed run keeps the number. */
  readonly workers?: number;
}

interface TrainingJson {
  readonly format: "effnet-training-1";
  readonly settings: RunSettings;
  readonly finished: boolean;
  readonly epochsDone: number;
  readonly totalSteps: number;
  readonly elapsedSeconds: number;
  readonly dropoutDraws: readonly number[];
  readonly optimizerWeights: readonly tf.io.WeightsManifestEntry[];
}

/** history.json: what a user plots. */
export function historyDocument(info: TrainedModelInfo, settings: RunSettings, epochs: readonly EpochSummary[]) {
  return { ...info, settings, epochs };
}

/** The files a checkpoint adds to the model's save. */
export async function checkpointFiles(
  info: TrainedModelInfo,
  settings: RunSettings,
  state: ResumeState,
  finished: boolean,
): Promise<{ name: string; content: string | Uint8Array }[]> {
  const named = state.optimizerWeights.map((w) => ({ name: w.name, tensor: w.tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const training: TrainingJson = {
    format: "effnet-training-1",
    settings,
    finished,
    epochsDone: state.epochsDone,
    totalSteps: state.totalSteps,
    elapsedSeconds: state.elapsedSeconds,
    dropoutDraws: state.dropoutDraws,
    optimizerWeights: specs,
  };
  return [
    { name: TRAINING_JSON, content: JSON.stringify(training, null, 2) + "\n" },
    { name: OPTIMIZER_BIN, content: new Uint8Array(tf.io.CompositeArrayBuffer.join(data)) },
    {
      name: HISTORY_JSON,
      content: JSON.stringify(historyDocument(info, settings, state.history), null, 2) + "\n",
    },
  ];
}

function readFile(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch (e) {
    throw new RuntimeUserError(
      `${dir} holds no training checkpoint: cannot read ${name} (${fsReason(e)}); \`effnet train … --out ${dir}\` writes one after every epoch`,
      { cause: e },
    );
  }
}

/** A checkpoint's settings and state; the optimiser's tensors are the caller's to dispose. */
export function readCheckpoint(dir: string): { settings: RunSettings; finished: boolean; state: ResumeState } {
  let training: TrainingJson;
  let history: { epochs: EpochSummary[] };
  try {
    training = JSON.parse(readFile(dir, TRAINING_JSON).toString("utf8")) as TrainingJson;
    history = JSON.parse(readFile(dir, HISTORY_JSON).toString("utf8")) as { epochs: EpochSummary[] };
  } catch (e) {
    if (e instanceof RuntimeUserError) throw e;
    throw new RuntimeUserError(`${dir}'s checkpoint is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (training?.format !== "effnet-training-1" || !Array.isArray(history?.epochs))
    throw new RuntimeUserError(`${join(dir, TRAINING_JSON)} is not an effnet training checkpoint`);
  const bin = readFile(dir, OPTIMIZER_BIN);
  const buffer = new Uint8Array(bin).buffer;
  const decoded = tf.io.decodeWeights(buffer, [...training.optimizerWeights]);
  return {
    settings: training.settings,
    finished: training.finished,
    state: {
      epochsDone: training.epochsDone,
      totalSteps: training.totalSteps,
      elapsedSeconds: training.elapsedSeconds,
      history: history.epochs,
      // Entry order is the optimiser's own (getWeights): keep it, setWeights relies on it.
      optimizerWeights: training.optimizerWeights.map((spec) => ({ name: spec.name, tensor: decoded[spec.name] })),
      dropoutDraws: training.dropoutDraws,
    },
  };
}
