import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { codedError } from "./errors.ts";
import {
  manifestEntryBytes,
  readModelDirJson,
  readWeightFiles,
  type ModelDirKind,
  type TrainedModelInfo,
} from "./io.ts";
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

const CHECKPOINT = (dir: string): ModelDirKind => ({
  what: "training checkpoint",
  fix: `\`effnet train … --out ${dir}\` writes one after every epoch`,
});

const text = (v: unknown) => typeof v === "string";
const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const positive = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const flag = (v: unknown) => typeof v === "boolean";

/** What a checkpoint's settings must hold, field by field (training.json is untrusted input like model.json). */
const RUN_SETTINGS_FIELDS: Readonly<Record<keyof RunSettings, (v: unknown) => boolean>> = {
  spec: text,
  network: text,
  variant: text,
  resolution: positive,
  classNames: (v) => Array.isArray(v) && v.every(text),
  data: text,
  images: count,
  validation: finite,
  seed: finite,
  batchSize: positive,
  epochs: positive,
  optimizer: text,
  learningRate: finite,
  weightDecay: finite,
  schedule: text,
  warmupEpochs: finite,
  augment: flag,
  zeroHead: flag,
  // Optional: checkpoints written before --workers have none (one thread).
  workers: (v) => v === undefined || positive(v),
};

/** training.json's own fields beside the settings and the optimiser's manifest. */
const TRAINING_FIELDS: Readonly<Record<string, (v: unknown) => boolean>> = {
  finished: flag,
  epochsDone: count,
  totalSteps: count,
  elapsedSeconds: finite,
  dropoutDraws: (v) => Array.isArray(v) && v.every(finite),
};

/** A checkpoint's settings and state; the optimiser's tensors are the caller's to dispose. */
export function readCheckpoint(dir: string): { settings: RunSettings; finished: boolean; state: ResumeState } {
  const kind = CHECKPOINT(dir);
  const path = join(dir, TRAINING_JSON);
  const raw = readModelDirJson(dir, TRAINING_JSON, kind);
  if (raw.format !== "effnet-training-1") throw codedError("EFF5027", { path, format: "effnet-training-1" });
  const settings = raw.settings as Record<string, unknown> | undefined;
  const badSetting =
    typeof settings === "object" && settings !== null
      ? Object.entries(RUN_SETTINGS_FIELDS).find(([key, valid]) => !valid(settings[key]))?.[0]
      : "";
  if (badSetting !== undefined)
    throw codedError("EFF5028", { path, field: `settings${badSetting ? `.${badSetting}` : ""}` });
  const badField = Object.entries(TRAINING_FIELDS).find(([key, valid]) => !valid(raw[key]))?.[0];
  if (badField !== undefined) throw codedError("EFF5028", { path, field: badField });
  const bytes = manifestEntryBytes(raw.optimizerWeights, path, "optimizerWeights");
  const history = readModelDirJson(dir, HISTORY_JSON, kind);
  if (!Array.isArray(history.epochs)) throw codedError("EFF5028", { path: join(dir, HISTORY_JSON), field: "epochs" });
  const training = raw as unknown as TrainingJson;
  const bin = readWeightFiles(
    dir,
    [OPTIMIZER_BIN],
    bytes.reduce((n, b) => n + b, 0),
    path,
    kind,
  );
  const decoded = tf.io.decodeWeights(bin.buffer as ArrayBuffer, [...training.optimizerWeights]);
  return {
    settings: training.settings,
    finished: training.finished,
    state: {
      epochsDone: training.epochsDone,
      totalSteps: training.totalSteps,
      elapsedSeconds: training.elapsedSeconds,
      history: history.epochs as EpochSummary[],
      // Entry order is the optimiser's own (getWeights): keep it, setWeights relies on it.
      optimizerWeights: training.optimizerWeights.map((spec) => ({ name: spec.name, tensor: decoded[spec.name] })),
      dropoutDraws: training.dropoutDraws,
    },
  };
}
