import { readFileSync } from "node:fs";
import { diagnostic } from "../../diagnostics/diagnostic.ts";
import { fsReason } from "../../runtime/errors.ts";
import { readModelArtifacts, saveModel, type TrainedModelInfo } from "../../runtime/io.ts";
import { CONVENTIONS, type ConventionName } from "../../vocabulary/conventions.ts";
import { REFERENCES, type ReferenceName } from "../../weights/naming.ts";
import { exportWeights, importWeights } from "../../weights/transfer.ts";
import {
  checkChoice,
  type CommandDef,
  EXIT,
  type Invocation,
  JSON_OPTION,
  reportDiagnostics,
  UsageError,
  writeOutputs,
} from "../command.ts";
import { BACKEND_OPTION, backendOption, compileOneVariant, SINGLE_VARIANT_OPTIONS } from "../model-command.ts";

/** A reference's weights compute its function only under its convention: each reference names one. */
const REFERENCE_CONVENTION: Record<ReferenceName, ConventionName> = { torchvision: "torchvision" };

function referenceOption(inv: Invocation, name: "from" | "to"): ReferenceName {
  const value = inv.string(name);
  const known = Object.keys(REFERENCES);
  if (value === undefined) throw new UsageError(`--${name} REFERENCE is required (${known.join(", ")})`);
  return checkChoice(name, value, known as ReferenceName[]);
}

const count = (n: number) => n.toLocaleString("en-US");

export const weightsImportCommand: CommandDef = {
  name: "weights import",
  summary: "load a reference's weights (torchvision safetensors) into a variant's model and save it",
  usage:
    "effnet weights import SPEC --variant NAME --from torchvision FILE.safetensors [--out DIR] [--classes N] [--resolution N]",
  details:
    "Compiles the variant under the reference's convention (padding, preprocessing, batch norm and classifier as the reference computes them, whatever convention the spec declares), names every weight as the reference's state dict does (src/weights/naming.ts), checks each tensor of FILE — missing, unexpected, mis-shaped or not float32, all reported at once and nothing written — converts the layouts (OIHW → HWIO, depthwise [C,1,k,k] → [k,k,C,1], Linear [out,in] → [in,out]) and saves model.json + weights.bin to --out, which `effnet predict`, `effnet train` and tf.loadLayersModel in a browser load. The model takes RGB pixels in [0, 255]; the reference's preprocessing is inside it. --classes N keeps the backbone and starts a new classifier of N classes (the file's classifier is ignored).",
  positionals: { min: 2, max: 2 },
  options: {
    ...SINGLE_VARIANT_OPTIONS,
    from: { type: "string", value: "REFERENCE", description: "whose state dict FILE is: torchvision" },
    out: {
      type: "string",
      short: "o",
      value: "DIR",
      description: "model directory (default models/<network>_<variant>)",
    },
    classes: {
      type: "string",
      value: "N",
      description: "a new classifier with N classes; the backbone keeps the weights",
    },
    resolution: { type: "string", value: "N", description: "input size of the saved model (default the variant's)" },
    ...JSON_OPTION,
    ...BACKEND_OPTION,
  },
  examples: [
    "effnet weights import specs/efficientnet.effnet --variant B0 --from torchvision efficientnet_b0.safetensors --out models/b0-imagenet",
    "effnet weights import specs/efficientnet.effnet --variant B0 --from torchvision efficientnet_b0.safetensors --classes 3 --out models/b0-shapes",
  ],
  run: async (inv) => {
    const weightsPath = inv.positionals[1];
    const reference = referenceOption(inv, "from");
    const classes = inv.string("classes") === undefined ? undefined : inv.integer("classes", 1);
    const resolution = inv.string("resolution") === undefined ? undefined : inv.integer("resolution", 1);
    const backend = backendOption(inv);
    const convention = REFERENCE_CONVENTION[reference];
    const built = await compileOneVariant(inv, { convention });
    if (!built) return EXIT.errors;
    const { compiled, module } = built;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(weightsPath);
    } catch (e) {
      reportDiagnostics([diagnostic("EFF0001", { path: weightsPath, reason: fsReason(e) })], undefined, inv.io, false);
      return EXIT.errors;
    }
    await backend.use();
    const { model, diagnostics } = importWeights({
      module,
      ir: compiled.ir,
      bytes,
      path: weightsPath,
      reference,
      classes,
      resolution,
    });
    if (!model) {
      reportDiagnostics(diagnostics, undefined, inv.io);
      return EXIT.errors;
    }
    const { network, variant } = compiled.ir;
    const out = inv.string("out") ?? `models/${network.toLowerCase()}_${variant.toLowerCase()}`;
    const outputs = (model.outputs[0].shape as number[]).at(-1)!;
    const info: TrainedModelInfo = {
      network,
      variant,
      resolution: resolution ?? compiled.ir.inputShape[0],
      classNames: Array.from({ length: outputs }, (_, i) => `class ${i}`),
      convention,
    };
    try {
      await saveModel(model, out, info);
      const summary = {
        model: out,
        network,
        variant,
        reference,
        convention,
        tensors: model.weights.length,
        params: model.countParams(),
        classes: outputs,
        newClassifier: classes !== undefined && classes !== compiled.ir.classes,
      };
      if (inv.options.json) inv.io.out(JSON.stringify(summary, null, 2) + "\n");
      else
        inv.io.out(
          `${network} ${variant} with ${reference}'s weights from ${weightsPath}: ${count(summary.params)} parameters in ${summary.tensors} tensors${summary.newClassifier ? `, a new ${outputs}-class classifier` : ""}; saved to ${out} (convention ${convention}: ${CONVENTIONS[convention].source}; input RGB pixels in [0, 255])\n`,
        );
    } finally {
      model.dispose();
    }
    return EXIT.ok;
  },
};

export const weightsExportCommand: CommandDef = {
  name: "weights export",
  summary: "write a saved model's weights as a reference's state dict (torchvision safetensors)",
  usage: "effnet weights export MODEL_DIR --to torchvision [--out FILE.safetensors]",
  details:
    "Reads MODEL_DIR/model.json and weights.bin (saved by `effnet train` or `effnet weights import`), names every weight as the reference's state dict does, converts the layouts back (HWIO → OIHW, …), adds the buffers the reference expects (batch norm's num_batches_tracked, as 0) and writes one safetensors file that torch's load_state_dict(strict=True) accepts for the reference model. Exact: importing the file again gives the same weights bit for bit. A model built under another convention is refused (its function differs from the reference's).",
  positionals: { min: 1, max: 1 },
  options: {
    to: { type: "string", value: "REFERENCE", description: "whose state dict to write: torchvision" },
    out: {
      type: "string",
      short: "o",
      value: "FILE",
      description: "output file (default MODEL_DIR/<reference>.safetensors)",
    },
    ...JSON_OPTION,
  },
  examples: ["effnet weights export models/b0-shapes --to torchvision --out b0-shapes.safetensors"],
  run: async (inv) => {
    const [dir] = inv.positionals;
    const reference = referenceOption(inv, "to");
    const out = inv.string("out") ?? `${dir.replace(/\/+$/, "")}/${reference}.safetensors`;
    const artifacts = readModelArtifacts(dir);
    const convention = builtUnder(artifacts);
    if (convention !== undefined && convention !== REFERENCE_CONVENTION[reference]) {
      reportDiagnostics([diagnostic("EFF5008", { dir, convention, reference })], undefined, inv.io, false);
      return EXIT.errors;
    }
    const { bytes, diagnostics } = exportWeights(artifacts, reference);
    if (!bytes) {
      reportDiagnostics(diagnostics, undefined, inv.io);
      return EXIT.errors;
    }
    if (!writeOutputs([{ path: out, content: bytes }], inv.io)) return EXIT.errors;
    if (inv.options.json) inv.io.out(JSON.stringify({ file: out, reference, bytes: bytes.byteLength }, null, 2) + "\n");
    else inv.io.out(`wrote ${out}: ${reference}'s state dict, ${count(bytes.byteLength)} bytes\n`);
    return EXIT.ok;
  },
};

/**
 * The convention a saved model was built under: what effnet recorded, else what its
 * layers show (Keras's stored Normalization, or explicit asymmetric padding, is Keras's).
 */
function builtUnder(artifacts: ReturnType<typeof readModelArtifacts>): string | undefined {
  const recorded = (artifacts.userDefinedMetadata as { effnet?: TrainedModelInfo } | undefined)?.effnet?.convention;
  if (recorded) return recorded;
  const topology = JSON.stringify(artifacts.modelTopology ?? {});
  if (/"class_name":"EffnetNormalization","config":\{[^}]*"stored":true/.test(topology)) return "keras";
  return undefined;
}
