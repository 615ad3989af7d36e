import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { compile, type CompiledVariant } from "../../src/compile.ts";
import type { ConventionName } from "../../src/vocabulary/conventions.ts";
import { seededReferenceWeights } from "../../src/weights/transfer.ts";

/**
 * The equivalence cases: each network family effnet expresses exactly and torchvision
 * builds, at a small resolution so the test runs in seconds. Weights and input come from
 * the seeds (src/weights/transfer.ts), so no weight file is checked in; the logits that
 * torchvision computes from them are (test/fixtures/equivalence/torchvision.json, written by
 * torchvision_logits.py from the files write-weights.ts writes).
 */
export interface EquivalenceCase {
  readonly name: string;
  readonly spec: string;
  readonly variant: string;
  /** torchvision.models builder. */
  readonly torchvision: string;
  readonly resolution: number;
  readonly seed: number;
  /**
   * The convention effnet compiles under (default torchvision). `keras`: torchvision's
   * modules with Keras's conventions put in (TensorFlow `same` padding of strided convs,
   * BN epsilon 1e-3, softmax), see torchvision_logits.py: Keras's function computed by
   * PyTorch, as no TensorFlow is installed here.
   */
  readonly convention?: ConventionName;
}

export const CASES: readonly EquivalenceCase[] = [
  {
    name: "efficientnet_b0",
    spec: "specs/efficientnet.effnet",
    variant: "B0",
    torchvision: "efficientnet_b0",
    resolution: 64,
    seed: 1,
  },
  {
    name: "efficientnet_b2",
    spec: "specs/efficientnet.effnet",
    variant: "B2",
    torchvision: "efficientnet_b2",
    resolution: 72,
    seed: 2,
  },
  {
    name: "mobilenet_v2",
    spec: "specs/mobilenetv2.effnet",
    variant: "V2",
    torchvision: "mobilenet_v2",
    resolution: 64,
    seed: 3,
  },
  { name: "resnet50", spec: "specs/resnet50.effnet", variant: "R50", torchvision: "resnet50", resolution: 64, seed: 4 },
  { name: "resnet18", spec: "specs/resnet.effnet", variant: "R18", torchvision: "resnet18", resolution: 64, seed: 6 },
  {
    name: "resnext50_32x4d",
    spec: "specs/resnext50.effnet",
    variant: "X50",
    torchvision: "resnext50_32x4d",
    resolution: 64,
    seed: 7,
  },
  {
    name: "mobilenet_v3_large",
    spec: "specs/mobilenetv3.effnet",
    variant: "Large",
    torchvision: "mobilenet_v3_large",
    resolution: 64,
    seed: 8,
  },
  {
    name: "mobilenet_v3_small",
    spec: "specs/mobilenetv3small.effnet",
    variant: "Small",
    torchvision: "mobilenet_v3_small",
    resolution: 64,
    seed: 9,
  },
  {
    name: "efficientnet_v2_s",
    spec: "specs/efficientnetv2.effnet",
    variant: "S",
    torchvision: "efficientnet_v2_s",
    resolution: 64,
    seed: 10,
  },
  {
    name: "mnasnet1_0",
    spec: "specs/mnasnet.effnet",
    variant: "M1",
    torchvision: "mnasnet1_0",
    resolution: 64,
    seed: 11,
  },
  {
    name: "regnet_x_400mf",
    spec: "specs/regnetx.effnet",
    variant: "X400MF",
    torchvision: "regnet_x_400mf",
    resolution: 64,
    seed: 12,
  },
  {
    name: "regnet_y_400mf",
    spec: "specs/regnety.effnet",
    variant: "Y400MF",
    torchvision: "regnet_y_400mf",
    resolution: 64,
    seed: 13,
  },
  {
    name: "efficientnet_b0_keras",
    spec: "specs/efficientnet.effnet",
    variant: "B0",
    torchvision: "efficientnet_b0",
    resolution: 66,
    seed: 5,
    convention: "keras",
  },
];

/** Images per case, and the seed of their pixels. */
export const BATCH = 2;
export const INPUT_SEED = 1234;
export const FIXTURE = "test/fixtures/equivalence/torchvision.json";

export function compileCase(
  c: EquivalenceCase,
  convention: ConventionName = c.convention ?? "torchvision",
): CompiledVariant {
  const compilation = compile(
    { path: c.spec, text: readFileSync(c.spec, "utf8") },
    { variants: [c.variant], convention },
  );
  if (!compilation.ok)
    throw new Error(`${c.spec} does not compile: ${compilation.diagnostics.map((d) => d.message).join("; ")}`);
  return compilation.variants[0];
}

const weightsCache = new Map<string, { bytes: Uint8Array; sha256: string }>();

/** The case's seeded weights (computed once per process: ResNet-50's are 100 MB). */
export function caseWeights(c: EquivalenceCase): { bytes: Uint8Array; sha256: string } {
  const cached = weightsCache.get(c.name);
  if (cached) return cached;
  const bytes = seededReferenceWeights(compileCase(c).ir, "torchvision", c.seed);
  const result = { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
  weightsCache.set(c.name, result);
  return result;
}
