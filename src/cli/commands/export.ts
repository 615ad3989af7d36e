import { statSync } from "node:fs";
import { resolve } from "node:path";
import { CUSTOM_LAYER_SOURCES } from "../../codegen/custom-layer-sources.ts";
import {
  DEFAULT_EXPORT_SAMPLES,
  exportFiles,
  exportForInference,
  FOLDING_TOLERANCE,
  modelArtifacts,
  type InferenceExport,
} from "../../runtime/export/inference.ts";
import { WEIGHT_TYPES } from "../../runtime/export/quantize.ts";
import { readModelArtifacts, type TrainedModelInfo } from "../../runtime/io.ts";
import { type CommandDef, duration, EXIT, type Invocation, JSON_OPTION, UsageError, writeOutputs } from "../command.ts";
import { BACKEND_OPTION, backendOption, compileOneVariant, SINGLE_VARIANT_OPTIONS } from "../model-command.ts";

/** What `--for` can target: one entry per kind of export. */
const TARGETS = ["inference"] as const;

/** The file that registers the custom layers an export still uses, when it uses any. */
export const CUSTOM_LAYERS_FILE = "effnet-layers.js";

/**
 * One self-contained ES module defining the custom layer classes an exported model.json
 * names (the runtime's own classes, src/runtime/layers.ts, as the code generator emits
 * them in JavaScript), inside a function that takes the page's or the program's tfjs, so
 * it imports nothing and works with any bundler or none.
 */
export function customLayersModule(names: readonly string[]): string {
  const body = names
    .map((n) => CUSTOM_LAYER_SOURCES[n].js.trim())
    .join("\n\n")
    .replace(/^(?=.)/gm, "  ");
  return `// Written by \`effnet export\`: the custom layers that model.json uses (${names.join(", ")}).
//   import * as tf from "@tensorflow/tfjs";
//   import { registerEffnetLayers } from "./${CUSTOM_LAYERS_FILE}";
//   registerEffnetLayers(tf);
//   const model = await tf.loadLayersModel("model.json");
export function registerEffnetLayers(tf) {
${body}
}
`;
}

/** A directory is a saved model; an existing file, or a name ending in .effnet, a spec. */
function isSpec(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return path.endsWith(".effnet");
  }
}

/** The model to export: a saved model directory as it is, or a spec's variant built with seeded initial weights. */
async function sourceArtifacts(inv: Invocation, source: string) {
  const variants = inv.list("variant");
  if (!isSpec(source)) {
    if (inv.string("resolution") !== undefined)
      throw new UsageError("--resolution is for a SPEC; a saved model keeps its own input size");
    const artifacts = readModelArtifacts(source);
    const info = (artifacts.userDefinedMetadata as { effnet?: TrainedModelInfo } | undefined)?.effnet;
    if (variants.length > 1 || (variants.length === 1 && info && variants[0] !== info.variant))
      throw new UsageError(
        `${source} holds ${info ? `${info.network} ${info.variant}` : "a saved model"}; leave out --variant or give its own`,
      );
    return { artifacts, trained: true as const };
  }
  const built = await compileOneVariant(inv, {
    path: source,
    why: `when exporting a spec (${source} is not a saved model directory)`,
  });
  if (!built) return undefined;
  const { compiled, module } = built;
  const resolution = inv.integer("resolution", module.metadata.resolution, 8);
  const model = module.buildModel({ resolution, seed: inv.integer("seed", 1, 0) });
  model.setUserDefinedMetadata({
    effnet: {
      network: compiled.ir.network,
      variant: compiled.ir.variant,
      resolution,
      classNames: Array.from({ length: compiled.ir.classes }, (_, i) => `class ${i}`),
      convention: module.metadata.convention.name,
    } satisfies TrainedModelInfo,
  });
  try {
    return { artifacts: await modelArtifacts(model), trained: false as const };
  } finally {
    model.dispose();
  }
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const share = (x: number) => `${(x * 100).toFixed(1)}%`;

function summaryLines(result: InferenceExport, source: string, out: string, trained: boolean): string[] {
  const c = result.counts;
  const done = [
    `${c.batchNorms} batch norms folded into their convolutions`,
    `${c.activations} activations merged into them`,
    `${c.dropouts} dropouts removed`,
    ...(c.preprocessing ? ["the input preprocessing as one 1×1 depthwise convolution"] : []),
    ...(c.paddings ? [`${c.paddings} zero paddings as \`same\` convolutions`] : []),
    ...(c.pools ? [`${c.pools} global poolings as window poolings`] : []),
  ];
  const left = result.unfoldedBatchNorms.length
    ? [`${result.unfoldedBatchNorms.length} batch norms left as layers (not after a convolution of their own)`]
    : [];
  const { stored, folding } = result;
  const agree = Math.round(stored.top1Agreement * result.samples);
  return [
    `exported ${source} for inference to ${out}: ${result.layers.before} → ${result.layers.after} layers (${done.join(", ")})${left.length ? `; ${left.join("")}` : ""}`,
    ...(trained ? [] : [`note: ${source} was built with fresh (seeded) initial weights, not trained ones`]),
    `weights ${result.weights}: ${megabytes(result.bytes.weights)}${result.weights === "float32" ? "" : ` (float32: ${megabytes(result.bytes.float32)})`}`,
    `measured on ${result.samples} seeded shapes images: folding changes logits by ${folding.relativeLogitError.toExponential(1)} of max |logit| (limit ${FOLDING_TOLERANCE.toExponential(0)})` +
      (result.weights === "float32"
        ? ""
        : `; ${result.weights} weights: max |Δprobability| ${stored.maxProbabilityChange.toExponential(1)}, top-1 agrees on ${agree}/${result.samples} (${share(stored.top1Agreement)}), logits by ${stored.relativeLogitError.toExponential(1)} of max |logit|`),
    result.customLayers.length
      ? `load: registerEffnetLayers(tf) from ${out}/${CUSTOM_LAYERS_FILE} (it defines ${result.customLayers.join(", ")}), then tf.loadLayersModel("${out}/model.json")`
      : `load: tf.loadLayersModel("${out}/model.json") with tfjs alone`,
  ];
}

export const exportCommand: CommandDef = {
  name: "export",
  summary:
    "an inference-only model: batch norm folded, activations fused, dropout removed, weights float32/16 or uint8",
  usage:
    "effnet export MODEL_DIR|SPEC [--variant NAME] --for inference --out DIR [--weights float32|float16|uint8] [--samples N] [--json]",
  details:
    "Reads a model saved by `effnet train` or `effnet weights import` (or builds a SPEC's --variant with seeded initial weights) and writes an inference-only tfjs layers model to --out: every batch norm that follows a convolution or dense layer folded into its kernel and bias (a bias is added where the layer had none), each activation after one merged into it (tfjs fuses relu into the convolution's kernel), dropout and drop connect removed (they are the identity in inference), the input preprocessing kept, as one 1×1 depthwise convolution; global average pooling as a window pooling (tfjs's faster kernel). It loads with plain tf.loadLayersModel in Node and the browser; a model with layers tfjs lacks (hard swish, grouped convolutions) comes with effnet-layers.js, one small ES module that registers them. --weights float16 or uint8 stores the weights in tfjs's weight-manifest quantization, which tf.loadLayersModel dequantizes. Before writing, the export runs the saved and the exported model on a fixed, seeded set of images and prints what changed: the folding error (limit 1e-4 of max |logit|; over it nothing is written) and, for float16/uint8, max |Δprobability| and top-1 agreement. All files are written or none.",
  positionals: { min: 1, max: 1 },
  options: {
    ...SINGLE_VARIANT_OPTIONS,
    variant: {
      type: "string",
      short: "v",
      multiple: true,
      value: "NAME",
      description: "the variant to build from SPEC (required for a SPEC)",
    },
    for: { type: "string", value: "TARGET", description: "what the export is for: inference (the default)" },
    out: { type: "string", short: "o", value: "DIR", description: "output directory (required)" },
    weights: {
      type: "string",
      value: "TYPE",
      description: "how weights are stored: float32 (default), float16 (half the size) or uint8 (a quarter)",
    },
    samples: {
      type: "string",
      value: "N",
      description: `seeded images the outputs are compared on (default ${DEFAULT_EXPORT_SAMPLES})`,
    },
    resolution: { type: "string", short: "r", value: "N", description: "input size when exporting a SPEC" },
    seed: { type: "string", value: "N", description: "seed of a SPEC's initial weights (default 1)" },
    ...JSON_OPTION,
    ...BACKEND_OPTION,
  },
  examples: [
    "effnet export models/b0-shapes --for inference --out models/b0-shapes-inference",
    "effnet export models/b0-imagenet --for inference --weights float16 --out public/b0",
    "effnet export specs/efficientnet.effnet --variant B0 --for inference --out /tmp/b0 --weights uint8",
  ],
  run: async (inv) => {
    const [source] = inv.positionals;
    inv.choice("for", TARGETS, "inference");
    const weights = inv.choice("weights", WEIGHT_TYPES, "float32");
    const out = inv.string("out");
    if (out === undefined) throw new UsageError("--out DIR is required: the directory to write the exported model to");
    if (resolve(out) === resolve(source))
      throw new UsageError(`--out ${out} is the model being exported; give another directory`);
    const samples = inv.integer("samples", DEFAULT_EXPORT_SAMPLES);
    const backend = backendOption(inv);
    await backend.use();
    const loaded = await sourceArtifacts(inv, source);
    if (!loaded) return EXIT.errors;
    // Progress on stderr: one line redrawn on a terminal, every 10th pass otherwise (long on cpu or for B7).
    const onProgress = ({ done, total, elapsedMs }: { done: number; total: number; elapsedMs: number }) => {
      if (!inv.io.interactive && done % 10 !== 0 && done !== total) return;
      const eta = (elapsedMs / done) * (total - done);
      const line = `measuring: forward pass ${done}/${total}, ${duration(elapsedMs / 1000)} elapsed, ETA ${duration(eta / 1000)}`;
      inv.io.err(inv.io.interactive ? `\r${line}${done === total ? "\n" : ""}` : `${line}\n`);
    };
    const result = await exportForInference(loaded.artifacts, {
      weights,
      samples,
      source,
      ...(inv.options.json ? {} : { onProgress }),
    });
    if (!(result.folding.relativeLogitError <= FOLDING_TOLERANCE))
      throw new Error(
        `the folded model's logits differ from ${source}'s by ${result.folding.relativeLogitError.toExponential(2)} of max |logit| (limit ${FOLDING_TOLERANCE}); nothing was written`,
      );
    const extra = result.customLayers.length
      ? [{ name: CUSTOM_LAYERS_FILE, content: customLayersModule(result.customLayers) }]
      : [];
    if (!writeOutputs(exportFiles(out, result, extra), inv.io)) return EXIT.errors;
    if (inv.options.json)
      inv.io.out(
        JSON.stringify(
          {
            model: source,
            out,
            for: "inference",
            weights,
            files: exportFiles(out, result, extra).map((f) => f.path),
            layers: result.layers,
            folded: result.counts,
            unfoldedBatchNorms: result.unfoldedBatchNorms,
            customLayers: result.customLayers,
            bytes: result.bytes,
            samples: result.samples,
            folding: result.folding,
            change: result.stored,
            trainedWeights: loaded.trained,
          },
          null,
          2,
        ) + "\n",
      );
    else for (const line of summaryLines(result, source, out, loaded.trained)) inv.io.out(`${line}\n`);
    return EXIT.ok;
  },
};
