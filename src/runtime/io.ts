import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fsReason, RuntimeUserError } from "./errors.ts";
// Registers the layer classes generated models may contain, so that saved ones load.
import "./layers.ts";

/**
 * Saving and loading LayersModels in Node without tfjs-node: the same two files that
 * tfjs-node's `file://` handler and tfjs-converter write (model.json with the topology
 * and a weights manifest, weights.bin with the float32 weights), so a model saved here
 * loads in a browser with tf.loadLayersModel('.../model.json') and vice versa.
 */

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

/** What effnet records beside the topology (model.json's userDefinedMetadata.effnet), so `predict` can name classes and size images. */
export interface TrainedModelInfo {
  readonly network: string;
  readonly variant: string;
  readonly resolution: number;
  readonly classNames: readonly string[];
  /** The convention it was built under (src/vocabulary/conventions.ts), when known: `effnet weights export` checks it. */
  readonly convention?: string;
}

/**
 * Writes both files to `dir` (created if missing), with any `extraFiles` (a checkpoint's
 * training state, the history). Atomic per save: all files go to temporary names first and
 * are renamed into place only once all are written, so an interrupted save never leaves a
 * model.json that points at missing or partial weights, or a state of another epoch.
 */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  info?: TrainedModelInfo,
  extraFiles: readonly { readonly name: string; readonly content: string | Uint8Array }[] = [],
): Promise<tf.io.SaveResult> {
  if (info) model.setUserDefinedMetadata({ effnet: info as unknown as object });
  return model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!(artifacts.modelTopology && artifacts.weightSpecs && artifacts.weightData))
        throw new Error("tfjs handed the save handler no topology or weights");
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      const files = [
        { path: join(dir, WEIGHTS_BIN), content: weights },
        { path: join(dir, MODEL_JSON), content: JSON.stringify(modelJSON) },
        ...extraFiles.map((f) => ({ path: join(dir, f.name), content: f.content })),
      ];
      const temps: string[] = [];
      try {
        mkdirSync(dir, { recursive: true });
        for (const f of files) {
          const temp = `${f.path}.${process.pid}.tmp`;
          writeFileSync(temp, f.content);
          temps.push(temp);
        }
        files.forEach((f, i) => renameSync(temps[i], f.path));
      } catch (e) {
        for (const t of temps) rmSync(t, { force: true });
        throw new RuntimeUserError(`cannot save the model to ${dir}: ${fsReason(e)}`, { cause: e });
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          modelTopologyBytes: files[1].content.length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs).length,
          weightDataBytes: weights.byteLength,
        },
      };
    }),
  );
}

function readModelFile(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch (e) {
    throw new RuntimeUserError(
      `${dir} holds no saved model: cannot read ${name} (${fsReason(e)}); save one with \`effnet train … --out ${dir}\``,
      { cause: e },
    );
  }
}

/** The artifacts of a model saved by saveModel (or tfjs-node, or tfjs-converter with one weights file). */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(readModelFile(dir, MODEL_JSON).toString("utf8")) as tf.io.ModelJSON;
  } catch (e) {
    if (e instanceof RuntimeUserError) throw e;
    throw new RuntimeUserError(`${join(dir, MODEL_JSON)} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!modelJSON?.modelTopology || !Array.isArray(modelJSON.weightsManifest))
    throw new RuntimeUserError(
      `${join(dir, MODEL_JSON)} is not a tfjs layers model (no modelTopology or weightsManifest)`,
    );
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of modelJSON.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) buffers.push(readModelFile(dir, path.replace(/^\.\//, "")));
  }
  const weightData = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  return {
    modelTopology: modelJSON.modelTopology,
    format: modelJSON.format,
    generatedBy: modelJSON.generatedBy,
    convertedBy: modelJSON.convertedBy,
    trainingConfig: modelJSON.trainingConfig,
    userDefinedMetadata: modelJSON.userDefinedMetadata,
    weightSpecs,
    weightData: weightData.buffer,
  };
}

/** Loads a saved model through tfjs's own loader (tf.loadLayersModel with an in-memory IOHandler). */
export async function loadModel(dir: string): Promise<{ model: tf.LayersModel; info?: TrainedModelInfo }> {
  const artifacts = readModelArtifacts(dir);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new RuntimeUserError(`cannot load the model in ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const info = (artifacts.userDefinedMetadata as { effnet?: TrainedModelInfo } | undefined)?.effnet;
  return { model, ...(info ? { info } : {}) };
}
