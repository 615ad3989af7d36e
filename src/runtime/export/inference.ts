import * as tf from "@tensorflow/tfjs";
import { CHANNELS, modelInput, shapesDataset } from "../data.ts";
import { RuntimeUserError } from "../errors.ts";
import { MODEL_JSON, WEIGHTS_BIN, type TrainedModelInfo } from "../io.ts";
import { foldForInference, type FoldCounts, type LayerJson, type NamedWeight } from "./fold.ts";
import { encodeWeights, type WeightType } from "./quantize.ts";

/**
 * `effnet export --for inference`: a saved model folded (./fold.ts), its weights stored in
 * the chosen type (./quantize.ts), and both measured against the model as saved on a fixed,
 * seeded set of images, so that the user sees what folding and quantization change before
 * shipping. The result is model.json + weights.bin that plain tf.loadLayersModel reads.
 */

/** The seed of the fixed input set: shapes images (src/runtime/data.ts), the same in every run and on every backend. */
export const EXPORT_SAMPLE_SEED = 20_261_201;
export const DEFAULT_EXPORT_SAMPLES = 16;
/** Issue 14: folded outputs equal the unfolded ones to 1e-4 of max |logit|; past it the export is refused (a bug, not a trade-off). */
export const FOLDING_TOLERANCE = 1e-4;

export interface OutputChange {
  /** max |Δlogit| ÷ max |logit| over the set: the folding error (float32 rounding only). */
  readonly relativeLogitError: number;
  /** max |Δprobability| over every image and class. */
  readonly maxProbabilityChange: number;
  /** The share of images whose most likely class is unchanged. */
  readonly top1Agreement: number;
}

export interface InferenceExport {
  /** model.json's content, and the weights file's bytes. */
  readonly modelJson: tf.io.ModelJSON;
  readonly weightData: Uint8Array;
  readonly weights: WeightType;
  readonly counts: FoldCounts;
  readonly unfoldedBatchNorms: readonly string[];
  readonly layers: { readonly before: number; readonly after: number };
  /** Custom layer classes (src/runtime/layers.ts) the exported model still uses: it needs them registered to load. */
  readonly customLayers: readonly string[];
  /** float32 folded against the model as saved, and (for float16/uint8) the stored weights against it. */
  readonly folding: OutputChange;
  readonly stored: OutputChange;
  readonly samples: number;
  readonly bytes: { readonly float32: number; readonly weights: number };
}

/** Keras's and tfjs's own layer classes (the rest are custom, registered by src/runtime/layers.ts). */
const CUSTOM_CLASS = /^Effnet/;

function decodeNamedWeights(artifacts: tf.io.ModelArtifacts): NamedWeight[] {
  const tensors = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  return artifacts.weightSpecs!.map((spec) => {
    const t = tensors[spec.name];
    const values = (t.dataSync() as Float32Array).slice();
    t.dispose();
    return { name: spec.name, shape: spec.shape, values };
  });
}

/** The same model with its softmax output made linear: what is compared is logits, the function's full precision. */
function withLogits(topology: object): object {
  const copy = structuredClone(topology) as { config: { layers: LayerJson[]; output_layers: [string][] } };
  for (const [name] of copy.config.output_layers) {
    const layer = copy.config.layers.find((l) => l.name === name);
    if (layer?.class_name === "Dense" && layer.config.activation === "softmax") layer.config.activation = "linear";
  }
  return copy;
}

async function load(topology: object, specs: tf.io.WeightsManifestEntry[], data: Uint8Array) {
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData }));
}

/**
 * Logits of every image of the set, one image at a time (batch 1: the peak memory of
 * deployment, so that B7 at 600 px fits the wasm heap), as one [images, classes] array.
 * `onImage` is called after each image, for progress.
 */
function logitsOf(model: tf.LayersModel, images: Float32Array, count: number, size: number, onImage: () => void) {
  const pixels = size * size * CHANNELS;
  let out: Float32Array | undefined;
  for (let i = 0; i < count; i++) {
    const x = modelInput(images.subarray(i * pixels, (i + 1) * pixels), [1, size, size, CHANNELS]);
    const y = model.predict(x) as tf.Tensor;
    const row = y.dataSync() as Float32Array;
    out ??= new Float32Array(count * row.length);
    out.set(row, i * row.length);
    tf.dispose([x, y]);
    onImage();
  }
  return out!;
}

function softmaxRow(row: Float32Array): Float64Array {
  const max = Math.max(...row);
  const e = Float64Array.from(row, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
};

export function outputChange(reference: Float32Array, actual: Float32Array, classes: number): OutputChange {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]));
    worst = Math.max(worst, Math.abs(actual[i] - reference[i]));
  }
  const images = reference.length / classes;
  let agree = 0;
  let probability = 0;
  for (let i = 0; i < images; i++) {
    const p = softmaxRow(reference.subarray(i * classes, (i + 1) * classes));
    const q = softmaxRow(actual.subarray(i * classes, (i + 1) * classes));
    if (argmax(p) === argmax(q)) agree++;
    for (let c = 0; c < classes; c++) probability = Math.max(probability, Math.abs(p[c] - q[c]));
  }
  return {
    relativeLogitError: scale > 0 ? worst / scale : worst,
    maxProbabilityChange: probability,
    top1Agreement: agree / images,
  };
}

export async function exportForInference(
  artifacts: tf.io.ModelArtifacts,
  options: {
    weights?: WeightType;
    samples?: number;
    source?: string;
    /** Called after each forward pass of the measurement, with how many of `total` are done and the ms elapsed. */
    onProgress?: (progress: { done: number; total: number; elapsedMs: number }) => void;
  } = {},
): Promise<InferenceExport> {
  const weights = options.weights ?? "float32";
  const samples = options.samples ?? DEFAULT_EXPORT_SAMPLES;
  const topology = artifacts.modelTopology as { class_name?: string; config?: { layers?: LayerJson[] } } | undefined;
  // Functional models only (what effnet builds): a Sequential model's config has no graph to rewrite.
  const functional = topology?.class_name === "Model" || topology?.class_name === "Functional";
  if (!functional || !topology?.config?.layers || !artifacts.weightSpecs || !artifacts.weightData)
    throw new RuntimeUserError(`${options.source ?? "the model"} is not a functional tfjs layers model with weights`);
  const original = decodeNamedWeights(artifacts);
  const reference = await load(
    withLogits(topology),
    artifacts.weightSpecs,
    new Uint8Array(artifacts.weightData as ArrayBuffer),
  );
  const toDispose: tf.LayersModel[] = [reference];
  try {
    const [, height, width, channels] = reference.inputs[0].shape as number[];
    if (height !== width || channels !== CHANNELS)
      throw new RuntimeUserError(
        `${options.source ?? "the model"} takes ${height}×${width}×${channels} inputs; effnet exports square RGB models`,
      );
    const inputSizeOf = (name: string) => {
      const input = reference.getLayer(name).input;
      return Array.isArray(input) ? undefined : (input.shape as number[]).slice(1, 3);
    };
    const folded = foldForInference(topology, original, inputSizeOf);
    const float32 = encodeWeights(folded.weights, "float32");
    const stored = weights === "float32" ? float32 : encodeWeights(folded.weights, weights);

    const data = shapesDataset({ count: samples, resolution: height, seed: EXPORT_SAMPLE_SEED });
    const passes = samples * (weights === "float32" ? 2 : 3);
    const start = performance.now();
    let done = 0;
    const onImage = () => options.onProgress?.({ done: ++done, total: passes, elapsedMs: performance.now() - start });
    const expected = logitsOf(reference, data.images, samples, height, onImage);
    const classes = expected.length / samples;
    const measure = async (encoded: typeof float32) => {
      const model = await load(withLogits(folded.topology), encoded.specs, encoded.data);
      toDispose.push(model);
      return outputChange(expected, logitsOf(model, data.images, samples, height, onImage), classes);
    };
    const folding = await measure(float32);
    const storedChange = weights === "float32" ? folding : await measure(stored);

    const info = (artifacts.userDefinedMetadata as { effnet?: TrainedModelInfo } | undefined)?.effnet;
    const modelJson: tf.io.ModelJSON = {
      modelTopology: folded.topology,
      format: "layers-model",
      generatedBy: artifacts.generatedBy,
      convertedBy: `effnet export --for inference --weights ${weights}`,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: stored.specs }],
      userDefinedMetadata: {
        ...(info ? { effnet: info as unknown as object } : {}),
        effnetExport: { for: "inference", weights, folded: folded.counts, foldingError: folding, change: storedChange },
      },
    };
    const layerClasses = new Set(folded.topology.config.layers.map((l) => l.class_name));
    return {
      modelJson,
      weightData: stored.data,
      weights,
      counts: folded.counts,
      unfoldedBatchNorms: folded.unfoldedBatchNorms,
      layers: { before: topology.config.layers.length, after: folded.topology.config.layers.length },
      customLayers: [...layerClasses].filter((c) => CUSTOM_CLASS.test(c)),
      folding,
      stored: storedChange,
      samples,
      bytes: { float32: float32.data.byteLength, weights: stored.data.byteLength },
    };
  } finally {
    for (const m of toDispose) m.dispose();
  }
}

/** The files of an export, for src/files/write.ts (all or none). */
export function exportFiles(dir: string, result: InferenceExport, extra: { name: string; content: string }[] = []) {
  return [
    { path: `${dir}/${WEIGHTS_BIN}`, content: result.weightData },
    { path: `${dir}/${MODEL_JSON}`, content: JSON.stringify(result.modelJson) },
    ...extra.map((f) => ({ path: `${dir}/${f.name}`, content: f.content })),
  ];
}

/** A model's artifacts in memory (topology, weight specs and data), as saveModel would write them. */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = {
        ...artifacts,
        weightData: tf.io.CompositeArrayBuffer.join(artifacts.weightData),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return saved!;
}

/** An export's model loaded with tfjs's own loader, as a user of the files would load it. */
export async function loadExported(result: InferenceExport): Promise<tf.LayersModel> {
  return load(result.modelJson.modelTopology as object, result.modelJson.weightsManifest[0].weights, result.weightData);
}
