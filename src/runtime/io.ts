import { realpathSync, statSync } from "node:fs";
import { isAbsolute, join, sep } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FileTooLargeError, readBounded } from "../files/read.ts";
import { CollidingOutputsError, WriteError, writeAllOrNothing } from "../files/write.ts";
import { codedError, fsReason, RuntimeUserError } from "./errors.ts";
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
 * training state, the history), all or none through src/files/write.ts, the project's one
 * writer: every file is staged under a temporary name first and renamed into place only once
 * all are written, and a failure puts back what was replaced, so an interrupted save never
 * leaves a model.json that points at missing or partial weights, or a state of another epoch.
 * A failure is EFF0003 naming the file that could not be written.
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
      try {
        writeAllOrNothing(files);
      } catch (e) {
        if (e instanceof WriteError) throw codedError("EFF0003", { path: e.path, reason: fsReason(e.reason) }, e);
        if (e instanceof CollidingOutputsError) throw codedError("EFF0012", { path: e.second, first: e.first }, e);
        throw e;
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

// ---------------------------------------------------------------------------------------
// Reading a model directory. Its files are untrusted input (a downloaded model, a typo'd
// path, a crafted manifest): every name a manifest gives is confined to the directory, every
// weights file must hold exactly the bytes its manifest describes, and every malformed file
// is one coded line naming it (EFF5010-EFF5029), never tfjs's multi-line text or a crash.

/** The largest model.json or checkpoint JSON read (B7's model.json is about 1 MB); bounded, so a device or a huge file is refused unread. */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** The most weight bytes a model directory may describe: 2 GiB, Node's largest single file read (B7's float32 weights are 266 MB). */
export const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;

/** Bytes per element of the dtypes a manifest may store (tfjs-core io/types.ts DTYPE_VALUE_SIZE_MAP; string and complex64 are not read). */
const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };
/** Bytes per element of tfjs-converter's quantised weights (`quantization.dtype`; tfjs-core io/io_utils.ts). */
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

/** What the user is told to do when a directory lacks a file, per kind of directory. */
export interface ModelDirKind {
  /** "saved model", "training checkpoint" */
  readonly what: string;
  readonly fix: string;
}
const SAVED_MODEL = (dir: string): ModelDirKind => ({
  what: "saved model",
  fix: `save one with \`effnet train … --out ${dir}\``,
});

/** A dtype's size from one of the tables above; a name the table lacks (`constructor` included) has none. */
const sizeOf = (table: Readonly<Record<string, number>>, dtype: unknown): number | undefined =>
  typeof dtype === "string" && Object.hasOwn(table, dtype) ? table[dtype] : undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The real path of `name` inside `dir`: a relative path without `..`, which (through any
 * symbolic links) still lands inside the directory; else EFF5012. `namedIn` is the file
 * that gave the name, for the message. File-system errors (a missing file) are thrown as they are.
 */
function confinedPath(dir: string, name: string, namedIn: string): string {
  const relative = name.replace(/^(\.\/)+/, "");
  const escapes = () => codedError("EFF5012", { path: namedIn, entry: name, dir });
  if (relative === "" || isAbsolute(relative) || /[\\\0]/.test(relative) || relative.split("/").includes(".."))
    throw escapes();
  const root = realpathSync(dir);
  const real = realpathSync(join(root, relative));
  if (!real.startsWith(root.endsWith(sep) ? root : root + sep)) throw escapes();
  return real;
}

/** A file of a model directory, confined to it and read with a bound; every failure a coded error naming it. */
export function readModelDirFile(
  dir: string,
  name: string,
  kind: ModelDirKind,
  namedIn = join(dir, name),
  limit = MAX_MODEL_JSON_BYTES,
): Buffer {
  try {
    return readBounded(confinedPath(dir, name, namedIn), limit);
  } catch (e) {
    if (e instanceof RuntimeUserError) throw e;
    if (e instanceof FileTooLargeError) throw codedError("EFF5016", { path: join(dir, name), limit });
    throw codedError("EFF5010", { dir, what: kind.what, file: name, reason: fsReason(e), fix: kind.fix }, e);
  }
}

/** A JSON file of a model directory, parsed; not JSON (or not an object) is EFF5011. */
export function readModelDirJson(dir: string, name: string, kind: ModelDirKind): Record<string, unknown> {
  const path = join(dir, name);
  let value: unknown;
  try {
    value = JSON.parse(readModelDirFile(dir, name, kind).toString("utf8"));
  } catch (e) {
    if (e instanceof RuntimeUserError) throw e;
    throw codedError("EFF5011", { path, detail: (e as Error).message }, e);
  }
  if (!isObject(value)) throw codedError("EFF5015", { path });
  return value;
}

/**
 * The byte size of each entry of a weights manifest (model.json's groups, or a checkpoint's
 * optimiser weights), after checking that it is one tfjs can decode: a name, a dtype it
 * stores, a shape of whole non-negative numbers whose size stays within MAX_WEIGHTS_BYTES.
 */
export function manifestEntryBytes(entries: unknown, path: string, where: string): number[] {
  if (!Array.isArray(entries)) throw codedError("EFF5019", { path, where });
  return entries.map((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry.name !== "string" || entry.name === "")
      throw codedError("EFF5020", { path, where, weight: i + 1 });
    const weight = `weight ${i + 1} (\`${entry.name}\`)`;
    const quantization = entry.quantization;
    const perElement = isObject(quantization)
      ? sizeOf(QUANTIZED_BYTES, quantization.dtype)
      : quantization === undefined
        ? sizeOf(DTYPE_BYTES, entry.dtype)
        : undefined;
    if (perElement === undefined || sizeOf(DTYPE_BYTES, entry.dtype) === undefined)
      throw codedError("EFF5021", {
        path,
        where,
        weight,
        dtype: JSON.stringify(isObject(quantization) ? quantization.dtype : entry.dtype) ?? "(none)",
        readable: Object.keys(DTYPE_BYTES),
        quantised: Object.keys(QUANTIZED_BYTES),
      });
    const { shape } = entry;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw codedError("EFF5022", { path, where, weight, shape: JSON.stringify(shape) ?? "(none)" });
    let bytes = perElement;
    for (const d of shape as number[]) {
      bytes *= d;
      if (bytes > MAX_WEIGHTS_BYTES)
        throw codedError("EFF5023", { path, where, weight, shape: shape as number[], limit: MAX_WEIGHTS_BYTES });
    }
    return bytes;
  });
}

/**
 * The bytes of `paths` (files of `dir` named in `manifest`), which must hold exactly
 * `expected` bytes together: a file longer or shorter than its manifest says is EFF5013,
 * checked from the files' sizes before anything is read.
 */
export function readWeightFiles(
  dir: string,
  paths: readonly string[],
  expected: number,
  manifest: string,
  kind: ModelDirKind,
): Uint8Array {
  const files = paths.map((name) => {
    try {
      const real = confinedPath(dir, name, manifest);
      const stat = statSync(real);
      if (!stat.isFile()) throw codedError("EFF5025", { path: join(dir, name) });
      return { name, real, size: stat.size };
    } catch (e) {
      if (e instanceof RuntimeUserError) throw e;
      throw codedError("EFF5010", { dir, what: kind.what, file: name, reason: fsReason(e), fix: kind.fix }, e);
    }
  });
  const mismatch = (size: number) =>
    codedError("EFF5013", { files: files.map((f) => join(dir, f.name)).join(" + "), size, expected, manifest });
  const size = files.reduce((n, f) => n + f.size, 0);
  if (size !== expected) throw mismatch(size);
  const data = new Uint8Array(expected);
  let offset = 0;
  for (const f of files) {
    const bytes = readModelDirFile(dir, f.name, kind, manifest, f.size);
    if (bytes.byteLength !== f.size) throw mismatch(offset + bytes.byteLength); // it changed since stat
    data.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return data;
}

/** effnet's record in model.json, checked field by field (a model saved elsewhere has none). */
const MODEL_INFO_FIELDS: Readonly<Record<keyof TrainedModelInfo, (v: unknown) => boolean>> = {
  network: (v) => typeof v === "string",
  variant: (v) => typeof v === "string",
  resolution: (v) => Number.isSafeInteger(v) && (v as number) > 0,
  classNames: (v) => Array.isArray(v) && v.every((n) => typeof n === "string"),
  convention: (v) => v === undefined || typeof v === "string",
};

function checkedModelInfo(metadata: unknown, path: string): void {
  if (metadata === undefined) return;
  const info = isObject(metadata) ? metadata.effnet : undefined;
  if (info === undefined) return;
  const bad = isObject(info)
    ? Object.entries(MODEL_INFO_FIELDS).find(([key, valid]) => !valid(info[key]))?.[0]
    : "effnet";
  if (bad !== undefined)
    throw codedError("EFF5026", { path, field: `userDefinedMetadata.effnet${bad === "effnet" ? "" : `.${bad}`}` });
}

/** The artifacts of a model saved by saveModel (or tfjs-node, or tfjs-converter), every file checked as above. */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const kind = SAVED_MODEL(dir);
  const path = join(dir, MODEL_JSON);
  const modelJSON = readModelDirJson(dir, MODEL_JSON, kind);
  if (!isObject(modelJSON.modelTopology)) throw codedError("EFF5017", { path, field: "modelTopology", kind: "object" });
  if (!Array.isArray(modelJSON.weightsManifest))
    throw codedError("EFF5017", { path, field: "weightsManifest", kind: "list" });
  checkedModelInfo(modelJSON.userDefinedMetadata, path);
  const groups = modelJSON.weightsManifest.map((group: unknown, i) => {
    const where = `weightsManifest entry ${i + 1}`;
    if (!isObject(group)) throw codedError("EFF5018", { path, group: i + 1 });
    if (!Array.isArray(group.paths) || group.paths.length === 0 || !group.paths.every((p) => typeof p === "string"))
      throw codedError("EFF5018", { path, group: i + 1, field: "paths" });
    if (!Array.isArray(group.weights)) throw codedError("EFF5018", { path, group: i + 1, field: "weights" });
    const bytes = manifestEntryBytes(group.weights, path, where).reduce((n, b) => n + b, 0);
    return { paths: group.paths as string[], weights: group.weights as tf.io.WeightsManifestEntry[], bytes };
  });
  const total = groups.reduce((n, g) => n + g.bytes, 0);
  if (total > MAX_WEIGHTS_BYTES) throw codedError("EFF5024", { path, total, limit: MAX_WEIGHTS_BYTES });
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const g of groups) {
    weightData.set(readWeightFiles(dir, g.paths, g.bytes, path, kind), offset);
    offset += g.bytes;
  }
  const json = modelJSON as unknown as tf.io.ModelJSON;
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    trainingConfig: json.trainingConfig,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: groups.flatMap((g) => g.weights),
    weightData: weightData.buffer,
  };
}

/** tfjs's reason a topology does not build, in one line (its unknown-layer text is four, aimed at Python users). */
function buildFailure(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  const unknown = /^Unknown layer: ([^\s.]+)/.exec(message);
  if (unknown)
    return `unknown layer class \`${unknown[1]}\` (effnet loads tfjs's built-in layers and its own, src/runtime/layers.ts)`;
  return message.split("\n")[0].trim();
}

/** Loads a saved model through tfjs's own loader (tf.loadLayersModel with an in-memory IOHandler). */
export async function loadModel(dir: string): Promise<{ model: tf.LayersModel; info?: TrainedModelInfo }> {
  const artifacts = readModelArtifacts(dir);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw codedError("EFF5014", { path: join(dir, MODEL_JSON), reason: buildFailure(e) }, e);
  }
  const info = (artifacts.userDefinedMetadata as { effnet?: TrainedModelInfo } | undefined)?.effnet;
  return { model, ...(info ? { info } : {}) };
}
