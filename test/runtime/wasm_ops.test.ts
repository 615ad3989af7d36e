/**
 * effnet's wasm Slice and Mean kernels (src/runtime/kernels/slice.ts,
 * mean.ts) against tfjs-backend-wasm's originals, and the Add / Sub /
 * Multiply / Square / Mean gradients (elementwise_grad.ts) against
 * tfjs-core's own, on wasm and cpu.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  originalGradient,
  originalKernel,
  registerTrainingKernels,
  restoreOriginalGradients,
  registerTrainingGradients,
} from "../../src/runtime/kernels/index.ts";
import { seededValues, expectClose, type Values } from "../helpers/numeric.ts";

const seeded = (shape: number[], seed: number, shift = 0) =>
  tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ).map((v) => v + shift),
    shape,
  );

/** Runs a kernel's original (tfjs) implementation directly on the active backend. */
function runOriginal(kernelName: string, inputs: tf.NamedTensorMap, attrs: object): Values {
  const backend = tf.backend();
  const info = originalKernel(kernelName, tf.getBackend())!.kernelFunc({
    inputs,
    backend,
    attrs: attrs as tf.NamedAttrMap,
  }) as tf.TensorInfo;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const result = { shape: t.shape, values: t.dataSync() as Float32Array };
  t.dispose();
  return result;
}

beforeAll(async () => {
  await tf.setBackend("wasm");
  await tf.ready();
  registerTrainingKernels("wasm");
});

describe("wasm Slice", () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [4, 6, 5, 3], begin: [1, 0, 0, 0], size: [1, -1, -1, -1] }, // one image: contiguous
    { shape: [4, 6, 5, 3], begin: [0, 0, 0, 0], size: [-1, -1, -1, -1] }, // whole tensor
    { shape: [4, 6, 5, 3], begin: [0, 1, 2, 0], size: [3, 4, 2, 3] }, // spatial crop
    { shape: [4, 6, 5, 3], begin: [1, 2, 1, 1], size: [2, 3, 3, 2] }, // every axis partial
    { shape: [4, 6, 5, 3], begin: [0, 0, 0, 2], size: [4, 6, 5, 1] }, // last axis only
    { shape: [20, 7], begin: [3, 0], size: [11, 7] }, // tap rows
    { shape: [7, 20], begin: [0, 3], size: [7, 11] }, // tap columns
    { shape: [9], begin: [2], size: [5] },
    { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 3, 6] }, // rank 5
    { shape: [3, 4], begin: [1, 1], size: [0, 2] }, // empty
  ];
  for (const c of cases) {
    for (const dtype of ["float32", "int32", "bool"] as const) {
      it(`${c.shape.join("x")} begin ${c.begin} size ${c.size} (${dtype}) is bit-identical to tfjs's`, () => {
        const x = tf.tidy(() => tf.cast(tf.mul(seeded(c.shape, 7), 10), dtype));
        const ours = tf.slice(x, c.begin, c.size);
        const expected = runOriginal(tf.Slice, { x }, { begin: c.begin, size: c.size });
        expect(ours.shape).toEqual(expected.shape);
        expect(Array.from(ours.dataSync() as Float32Array)).toEqual(Array.from(expected.values));
        tf.dispose([x, ours]);
      });
    }
  }
  it("keeps memory balanced", () => {
    const x = seeded([4, 6, 5, 3], 1);
    const before = tf.memory().numTensors;
    tf.dispose(tf.slice(x, [0, 1, 1, 0], [2, 2, 2, 3]));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("wasm Mean", () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [3, 7, 5, 6], axis: [0, 1, 2], keepDims: false }, // tf.moments
    { shape: [3, 7, 5, 6], axis: [0, 1, 2], keepDims: true },
    { shape: [1, 9, 9, 4], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 7, 5, 6], axis: [1, 2], keepDims: false }, // global average pooling
    { shape: [3, 7, 5, 6], axis: [2, 1], keepDims: true },
    { shape: [3, 7, 5, 6], axis: [-3, -2], keepDims: false },
    { shape: [3, 1, 1, 6], axis: [0, 1, 2], keepDims: false }, // 1x1: original
    { shape: [3, 7, 5, 6], axis: [3], keepDims: false }, // other axes: original
    { shape: [3, 7, 5, 6], axis: [0], keepDims: true },
    { shape: [12, 6], axis: 0, keepDims: false },
  ];
  for (const c of cases) {
    it(`${c.shape.join("x")} over ${c.axis}${c.keepDims ? " keepDims" : ""} matches tfjs's`, () => {
      const x = seeded(c.shape, 3, 0.7); // non-zero mean
      const ours = tf.mean(x, c.axis, c.keepDims);
      const expected = runOriginal(tf.Mean, { x }, { axis: c.axis, keepDims: c.keepDims });
      expectClose({ shape: ours.shape, values: ours.dataSync() as Float32Array }, expected, "mean");
      tf.dispose([x, ours]);
    });
  }
  it("handles int32 input through the original", () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2], "int32");
    const ours = tf.mean(x, [0, 1, 2]);
    expect(Array.from(ours.dataSync())).toEqual(
      Array.from(runOriginal(tf.Mean, { x }, { axis: [0, 1, 2], keepDims: false }).values),
    );
    tf.dispose([x, ours]);
  });
});

type Op = { name: string; kernel: string; shapes: number[][]; f: (...t: tf.Tensor[]) => tf.Tensor };
const BINARY_SHAPES = [
  [[2, 5, 4, 3], [3]],
  [
    [2, 5, 4, 3],
    [1, 1, 1, 3],
  ],
  [
    [2, 5, 4, 3],
    [2, 1, 1, 3],
  ], // squeeze-and-excitation gate
  [
    [2, 1, 1, 3],
    [2, 5, 4, 3],
  ],
  [
    [2, 5, 4, 3],
    [2, 5, 4, 3],
  ],
  [[2, 5, 4, 3], []],
  [[6, 4], [4]],
  [
    [6, 1],
    [1, 4],
  ],
];
const OPS: Op[] = [
  ...BINARY_SHAPES.map((shapes) => ({
    name: `add ${shapes.map((s) => `[${s}]`).join(" ")}`,
    kernel: tf.Add,
    shapes,
    f: tf.add,
  })),
  ...BINARY_SHAPES.map((shapes) => ({
    name: `sub ${shapes.map((s) => `[${s}]`).join(" ")}`,
    kernel: tf.Sub,
    shapes,
    f: tf.sub,
  })),
  ...BINARY_SHAPES.map((shapes) => ({
    name: `mul ${shapes.map((s) => `[${s}]`).join(" ")}`,
    kernel: tf.Multiply,
    shapes,
    f: tf.mul,
  })),
  { name: "square", kernel: tf.Square, shapes: [[2, 5, 4, 3]], f: tf.square },
  { name: "mean [0,1,2]", kernel: tf.Mean, shapes: [[2, 5, 4, 3]], f: (x) => tf.mean(x, [0, 1, 2]) },
  { name: "mean [1,2] keepDims", kernel: tf.Mean, shapes: [[2, 5, 4, 3]], f: (x) => tf.mean(x, [1, 2], true) },
  { name: "mean all", kernel: tf.Mean, shapes: [[6, 4]], f: (x) => tf.mean(x) },
  { name: "mean -1", kernel: tf.Mean, shapes: [[6, 4]], f: (x) => tf.mean(x, -1) },
  {
    name: "moments + normalisation",
    kernel: tf.Mean,
    shapes: [[3, 6, 5, 4]],
    f: (x) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-3)));
    },
  },
];

function gradientsOf(op: Op): Values[] {
  return tf.tidy(() => {
    const inputs = op.shapes.map((shape, i) => seeded(shape, 11 + i, 0.3));
    const upstream = seeded(op.f(...inputs).shape, 5);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op.f(...xs), upstream)))(inputs);
    return grads.map((g) => ({ shape: g.shape, values: g.dataSync() as Float32Array }));
  });
}

for (const backendName of ["wasm", "cpu"] as const) {
  describe(`gradients on ${backendName} match tfjs-core's`, () => {
    beforeAll(async () => {
      await tf.setBackend(backendName);
      await tf.ready();
      registerTrainingKernels(backendName);
    });
    afterAll(() => registerTrainingGradients());
    for (const op of OPS) {
      it(op.name, () => {
        registerTrainingGradients();
        expect(tf.getGradient(op.kernel)).not.toBe(originalGradient(op.kernel));
        const ours = gradientsOf(op);
        restoreOriginalGradients();
        const theirs = gradientsOf(op);
        registerTrainingGradients();
        ours.forEach((g, i) => expectClose(g, theirs[i], `${op.name} d/dinput${i}`));
      });
    }
  });
}

describe("wasm FusedBatchNorm", () => {
  beforeAll(async () => {
    await tf.setBackend("wasm");
    await tf.ready();
    registerTrainingKernels("wasm");
  });
  const C = 6;
  const cases: {
    name: string;
    shape: number[];
    statShape: number[];
    withScale: boolean;
    withOffset: boolean;
    shift?: number;
  }[] = [
    { name: "rank-1 statistics", shape: [3, 7, 5, C], statShape: [C], withScale: true, withOffset: true },
    {
      name: "[1, 1, 1, C] statistics",
      shape: [3, 7, 5, C],
      statShape: [1, 1, 1, C],
      withScale: true,
      withOffset: true,
    },
    { name: "no scale", shape: [2, 4, 4, C], statShape: [C], withScale: false, withOffset: true },
    { name: "no offset", shape: [2, 4, 4, C], statShape: [C], withScale: true, withOffset: false },
    { name: "neither", shape: [2, 4, 4, C], statShape: [C], withScale: false, withOffset: false },
    {
      name: "|mean| ≫ std (no cancellation)",
      shape: [2, 4, 4, C],
      statShape: [C],
      withScale: true,
      withOffset: true,
      shift: 1000,
    },
    {
      name: "full-shaped statistics (original)",
      shape: [2, 3, 3, C],
      statShape: [2, 3, 3, C],
      withScale: true,
      withOffset: true,
    },
  ];
  for (const c of cases) {
    it(`${c.name} matches tfjs's`, () => {
      const shift = c.shift ?? 0;
      const inputs: tf.NamedTensorMap = {
        x: seeded(c.shape, 1, shift),
        mean: tf.add(seeded(c.statShape, 2, 0.2), shift),
        variance: seeded(c.statShape, 3, 1.5),
      };
      if (c.withOffset) inputs.offset = seeded(c.statShape, 4);
      if (c.withScale) inputs.scale = seeded(c.statShape, 5, 1);
      const attrs = { varianceEpsilon: 1e-3 };
      const ours = tf.engine().runKernel(tf.FusedBatchNorm, inputs, attrs) as tf.Tensor;
      const expected = runOriginal(tf.FusedBatchNorm, inputs, attrs);
      expectClose({ shape: ours.shape, values: ours.dataSync() as Float32Array }, expected, c.name);
      tf.dispose([ours, ...Object.values(inputs)]);
    });
  }
});
