import * as tf from "@tensorflow/tfjs";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { NetworkIR } from "../ir/ir.ts";
import { seededRandom } from "../runtime/data.ts";
import type { GeneratedModelModule } from "../runtime/module.ts";
import {
  inversePermutation,
  irWeights,
  LAYOUTS,
  permute,
  referenceNames,
  type EffnetWeight,
  type NamedTensor,
  type ReferenceName,
} from "./naming.ts";
import {
  float32Values,
  readSafetensors,
  writeSafetensors,
  type SafetensorsFile,
  type TensorToWrite,
} from "./safetensors.ts";

/**
 * Reference weights in and out of effnet's models: a safetensors state dict of the
 * reference (torchvision) checked tensor by tensor against the IR's weights, converted to
 * effnet's layouts and set into the generated model; and a saved effnet model written
 * back as the reference's state dict. Import and export are exact (permutations of
 * float32 values), so a file round-trips bit for bit.
 */

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/**
 * Every problem of `file` against the expected tensors, all at once: missing (EFF5004),
 * not float32 (EFF5003), mis-shaped (EFF5006), and tensors no layer names (EFF5005).
 * `skipLayers`' tensors are neither required nor extra (`--classes`: a new classifier).
 */
export function checkTensors(
  file: SafetensorsFile,
  path: string,
  expected: readonly NamedTensor[],
  buffers: readonly { key: string }[],
  reference: ReferenceName,
  skipLayers: ReadonlySet<string> = new Set(),
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const known = new Set([...expected.map((t) => t.key), ...buffers.map((b) => b.key)]);
  for (const t of expected) {
    if (skipLayers.has(t.layer)) continue;
    const entry = file.tensors.get(t.key);
    if (!entry) {
      diagnostics.push(
        diagnostic("EFF5004", { key: t.key, layer: `${t.layer}/${t.weight}`, shape: shapeText(t.referenceShape) }),
      );
      continue;
    }
    if (entry.dtype !== "F32") {
      diagnostics.push(diagnostic("EFF5003", { path, key: t.key, dtype: entry.dtype, expected: "F32 weights" }));
      continue;
    }
    if (shapeText(entry.shape) !== shapeText(t.referenceShape))
      diagnostics.push(
        diagnostic("EFF5006", {
          key: t.key,
          layer: `${t.layer}/${t.weight}`,
          expected: shapeText(t.referenceShape),
          found: shapeText(entry.shape),
        }),
      );
  }
  for (const [key, entry] of file.tensors)
    if (!known.has(key)) diagnostics.push(diagnostic("EFF5005", { key, shape: shapeText(entry.shape), reference }));
  return diagnostics;
}

export interface ImportOptions {
  /** The generated module of the variant, compiled under the reference's convention. */
  readonly module: GeneratedModelModule;
  readonly ir: NetworkIR;
  /** The safetensors file's bytes and its path, for messages. */
  readonly bytes: Uint8Array;
  readonly path: string;
  readonly reference: ReferenceName;
  /** A new classifier with this many classes (freshly initialised); the backbone keeps the file's weights. */
  readonly classes?: number;
  readonly resolution?: number;
}

/** A reference state dict as a built effnet model, or the diagnostics of every bad tensor (and no model). */
export function importWeights(options: ImportOptions): { model?: tf.LayersModel; diagnostics: Diagnostic[] } {
  const read = readSafetensors(options.bytes, options.path);
  if (!read.file) return { diagnostics: read.diagnostics };
  const named = referenceNames(irWeights(options.ir), options.reference, options.ir.network);
  if (named.diagnostics.length) return { diagnostics: named.diagnostics };
  const newClassifier = options.classes !== undefined && options.classes !== options.ir.classes;
  const skip = new Set(newClassifier ? [options.ir.output] : []);
  const diagnostics = checkTensors(read.file, options.path, named.tensors, named.buffers, options.reference, skip);
  if (diagnostics.length) return { diagnostics };

  const model = options.module.buildModel({ classes: options.classes, resolution: options.resolution });
  const byLayer = new Map<string, NamedTensor[]>();
  for (const t of named.tensors) if (!skip.has(t.layer)) byLayer.set(t.layer, [...(byLayer.get(t.layer) ?? []), t]);
  for (const [layer, tensors] of byLayer) {
    const values = tensors.map((t) => {
      const data = float32Values(read.file!.tensors.get(t.key)!);
      return tf.tensor(
        permute(data, t.referenceShape, inversePermutation(LAYOUTS[t.layout].toReference)),
        [...t.shape],
        "float32",
      );
    });
    model.getLayer(layer).setWeights(values);
    tf.dispose(values);
  }
  return { model, diagnostics: [] };
}

/** A saved model's weights (model.json's manifest order) as effnet weights with their values. */
export function savedWeights(artifacts: tf.io.ModelArtifacts): (EffnetWeight & { values: Float32Array })[] {
  const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
  let offset = 0;
  return (artifacts.weightSpecs ?? []).map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(data.slice(offset, offset + 4 * n).buffer);
    offset += 4 * n;
    const slash = spec.name.lastIndexOf("/");
    return { layer: spec.name.slice(0, slash), weight: spec.name.slice(slash + 1), shape: spec.shape, values };
  });
}

/** The reference state dict of a saved model's weights: safetensors bytes, or why not. */
export function exportWeights(
  artifacts: tf.io.ModelArtifacts,
  reference: ReferenceName,
): { bytes?: Uint8Array; diagnostics: Diagnostic[] } {
  const weights = savedWeights(artifacts);
  // The saved model's name (`network_variant`, src/codegen/emit.ts) picks families named by network.
  const modelName = (artifacts.modelTopology as { config?: { name?: unknown } } | undefined)?.config?.name;
  const named = referenceNames(weights, reference, typeof modelName === "string" ? modelName : "");
  if (named.diagnostics.length) return { diagnostics: named.diagnostics };
  const valuesOf = new Map(weights.map((w) => [`${w.layer}/${w.weight}`, w.values]));
  const tensors: TensorToWrite[] = named.tensors.map((t) => ({
    name: t.key,
    dtype: "F32",
    shape: t.referenceShape,
    values: permute(valuesOf.get(`${t.layer}/${t.weight}`)!, t.shape, LAYOUTS[t.layout].toReference),
  }));
  // torchvision's load_state_dict(strict=True) wants every buffer; effnet does not count batches.
  for (const b of named.buffers) tensors.push({ name: b.key, dtype: "I64", shape: [], values: new BigInt64Array(1) });
  return { bytes: writeSafetensors(tensors), diagnostics: [] };
}

/**
 * Seeded random weights in the reference's naming, for the equivalence tests: kernels
 * uniform with variance 1/fan-in, BN γ in [0.5, 1.5], β and running means in [−0.2, 0.2],
 * running variances in [0.5, 2] (non-trivial statistics, so epsilon and the order of
 * operations matter), biases in [−0.1, 0.1]. A pure function of the IR and the seed.
 */
export function seededReferenceWeights(ir: NetworkIR, reference: ReferenceName, seed: number): Uint8Array {
  const named = referenceNames(irWeights(ir), reference, ir.network);
  if (named.diagnostics.length) throw new Error(named.diagnostics.map((d) => d.message).join("; "));
  const random = seededRandom(seed);
  const uniform = (n: number, lo: number, hi: number) =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
  const tensors: TensorToWrite[] = named.tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    // Kernels: [k, k, in, out], depthwise [k, k, C, 1] (fan-in k·k), dense [in, out].
    const fanIn =
      t.weight === "depthwise_kernel" ? t.shape[0] * t.shape[1] : t.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const bound = Math.sqrt(3 / fanIn);
    const values =
      t.weight === "kernel" || t.weight === "depthwise_kernel"
        ? uniform(n, -bound, bound)
        : t.weight === "gamma"
          ? uniform(n, 0.5, 1.5)
          : t.weight === "beta" || t.weight === "moving_mean"
            ? uniform(n, -0.2, 0.2)
            : t.weight === "moving_variance"
              ? uniform(n, 0.5, 2)
              : uniform(n, -0.1, 0.1);
    return { name: t.key, dtype: "F32", shape: t.referenceShape, values };
  });
  for (const b of named.buffers) tensors.push({ name: b.key, dtype: "I64", shape: [], values: new BigInt64Array(1) });
  return writeSafetensors(tensors);
}

/** Seeded pixels in [0, 255] (whole numbers), NHWC, the input of the equivalence tests. */
export function seededPixels(seed: number, batch: number, resolution: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: batch * resolution * resolution * 3 }, () => Math.floor(random() * 256));
}
