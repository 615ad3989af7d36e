/**
 * effnet's training kernels (src/runtime/kernels) against tfjs's own.
 *
 * Reference: gradients from tf.grads on the cpu backend with tfjs-backend-cpu's
 * ORIGINAL kernels (Conv2DBackpropInput/Filter,
 * DepthwiseConv2dNativeBackpropInput/Filter). Checked: the wasm backend with
 * our kernels (all four, including our Conv2DBackpropInput in place of
 * wasm's), and the cpu backend with our replacements.
 * The FusedBatchNorm gradient has its own file, batch_norm_grad.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TRAINING_KERNELS,
  originalKernel,
  registerTrainingKernels,
  restoreOriginalKernels,
  trainingKernelsFor,
} from "../../src/runtime/kernels/index.ts";
import { seededValues, expectClose, useBackend } from "../helpers/numeric.ts";
import { withChunkBudget } from "../../src/runtime/kernels/chunks.ts";

type Shape4D = [number, number, number, number];
type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;

function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

interface GradientCase {
  name: string;
  op: "conv2d" | "depthwiseConv2d";
  inputShape: Shape4D;
  filterShape: Shape4D;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** NCHW only on cpu: tfjs-backend-wasm's forward Conv2D is NHWC-only. */
  dataFormat?: "NHWC" | "NCHW";
}

const CASES: GradientCase[] = [
  {
    name: "conv 3x3 stride 1 same",
    op: "conv2d",
    inputShape: [2, 16, 16, 4],
    filterShape: [3, 3, 4, 8],
    strides: 1,
    pad: "same",
  },
  {
    name: "conv 3x3 stride 2 same",
    op: "conv2d",
    inputShape: [2, 16, 16, 4],
    filterShape: [3, 3, 4, 8],
    strides: 2,
    pad: "same",
  },
  {
    name: "conv 3x3 stride 1 valid",
    op: "conv2d",
    inputShape: [2, 16, 16, 4],
    filterShape: [3, 3, 4, 8],
    strides: 1,
    pad: "valid",
  },
  {
    name: "conv 3x3 stride 2 valid, 15x15",
    op: "conv2d",
    inputShape: [2, 15, 15, 4],
    filterShape: [3, 3, 4, 8],
    strides: 2,
    pad: "valid",
  },
  {
    name: "conv 1x1 stride 1",
    op: "conv2d",
    inputShape: [2, 16, 16, 8],
    filterShape: [1, 1, 8, 12],
    strides: 1,
    pad: "same",
  },
  {
    name: "conv 1x1 stride 1, fewer outputs than inputs",
    op: "conv2d",
    inputShape: [2, 16, 16, 12],
    filterShape: [1, 1, 12, 5],
    strides: 1,
    pad: "same",
  },
  {
    name: "conv 1x1 stride 2 same, 15x15, fewer outputs than inputs",
    op: "conv2d",
    inputShape: [2, 15, 15, 12],
    filterShape: [1, 1, 12, 5],
    strides: 2,
    pad: "same",
  },
  {
    name: "conv 1x1 stride 2 valid, 15x15",
    op: "conv2d",
    inputShape: [2, 15, 15, 8],
    filterShape: [1, 1, 8, 12],
    strides: 2,
    pad: "valid",
  },
  {
    name: "conv 5x5 stride 2 same, 15x15",
    op: "conv2d",
    inputShape: [2, 15, 15, 4],
    filterShape: [5, 5, 4, 8],
    strides: 2,
    pad: "same",
  },
  {
    name: "conv 3x3 stride 2 same, 7x7",
    op: "conv2d",
    inputShape: [3, 7, 7, 5],
    filterShape: [3, 3, 5, 6],
    strides: 2,
    pad: "same",
  },
  // Last input row/column is in no window: the kernels must crop, not pad.
  {
    name: "conv 2x2 stride 2 valid, 15x15",
    op: "conv2d",
    inputShape: [2, 15, 15, 4],
    filterShape: [2, 2, 4, 8],
    strides: 2,
    pad: "valid",
  },
  {
    name: "conv 3x3 strides [1, 2], 9x12",
    op: "conv2d",
    inputShape: [2, 9, 12, 4],
    filterShape: [3, 3, 4, 8],
    strides: [1, 2],
    pad: "same",
  },
  {
    name: "conv 3x3 stride 3 same, 16x16",
    op: "conv2d",
    inputShape: [2, 16, 16, 4],
    filterShape: [3, 3, 4, 8],
    strides: 3,
    pad: "same",
  },
  {
    name: "conv 3x3 stride 2 explicit padding",
    op: "conv2d",
    inputShape: [2, 10, 9, 4],
    filterShape: [3, 3, 4, 8],
    strides: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  // tfjs's Conv2D_grad drops dimRoundingMode, so dy is one row/column larger
  // than the kernels' attrs say; the originals ignore the extra entries.
  {
    name: "conv 3x3 stride 2 pad 1 ceil, 8x8",
    op: "conv2d",
    inputShape: [2, 8, 8, 4],
    filterShape: [3, 3, 4, 8],
    strides: 2,
    pad: 1,
    dimRoundingMode: "ceil",
  },
  {
    name: "depthwise 3x3 stride 1 same",
    op: "depthwiseConv2d",
    inputShape: [2, 16, 16, 6],
    filterShape: [3, 3, 6, 1],
    strides: 1,
    pad: "same",
  },
  {
    name: "depthwise 3x3 stride 2 same",
    op: "depthwiseConv2d",
    inputShape: [2, 16, 16, 6],
    filterShape: [3, 3, 6, 1],
    strides: 2,
    pad: "same",
  },
  {
    name: "depthwise 5x5 stride 2 same, 15x15",
    op: "depthwiseConv2d",
    inputShape: [2, 15, 15, 6],
    filterShape: [5, 5, 6, 1],
    strides: 2,
    pad: "same",
  },
  {
    name: "depthwise 3x3 stride 2 same, 7x7",
    op: "depthwiseConv2d",
    inputShape: [3, 7, 7, 5],
    filterShape: [3, 3, 5, 1],
    strides: 2,
    pad: "same",
  },
  {
    name: "depthwise 3x3 stride 1 valid, 15x15",
    op: "depthwiseConv2d",
    inputShape: [2, 15, 15, 6],
    filterShape: [3, 3, 6, 1],
    strides: 1,
    pad: "valid",
  },
  // Last input row/column is in no window: the wasm kernel must crop before its explicit-padding convolution.
  {
    name: "depthwise 2x2 stride 2 valid, 15x15",
    op: "depthwiseConv2d",
    inputShape: [2, 15, 15, 6],
    filterShape: [2, 2, 6, 1],
    strides: 2,
    pad: "valid",
  },
  {
    name: "depthwise 5x5 stride 1 same, 3x3 (window larger than input)",
    op: "depthwiseConv2d",
    inputShape: [2, 3, 3, 4],
    filterShape: [5, 5, 4, 1],
    strides: 1,
    pad: "same",
  },
  // Channels a multiple of 4: the WebAssembly SIMD loops on wasm (depthwise_simd.ts); the others fall back.
  {
    name: "depthwise 3x3 stride 2 same, 8 channels (SIMD)",
    op: "depthwiseConv2d",
    inputShape: [2, 16, 16, 8],
    filterShape: [3, 3, 8, 1],
    strides: 2,
    pad: "same",
  },
  {
    name: "depthwise 5x5 stride 1 same, 15x15, 12 channels (SIMD)",
    op: "depthwiseConv2d",
    inputShape: [3, 15, 15, 12],
    filterShape: [5, 5, 12, 1],
    strides: 1,
    pad: "same",
  },
  {
    name: "depthwise 5x5 stride 2 same, 15x15, 16 channels (SIMD)",
    op: "depthwiseConv2d",
    inputShape: [2, 15, 15, 16],
    filterShape: [5, 5, 16, 1],
    strides: 2,
    pad: "same",
  },
  {
    name: "depthwise 2x2 stride 2 valid, 15x15, 4 channels (SIMD)",
    op: "depthwiseConv2d",
    inputShape: [2, 15, 15, 4],
    filterShape: [2, 2, 4, 1],
    strides: 2,
    pad: "valid",
  },
  {
    name: "depthwise 3x3 stride 2 multiplier 2",
    op: "depthwiseConv2d",
    inputShape: [2, 15, 15, 4],
    filterShape: [3, 3, 4, 2],
    strides: 2,
    pad: "same",
  },
  {
    name: "depthwise 3x3 stride 2 pad 1 ceil, 8x8",
    op: "depthwiseConv2d",
    inputShape: [2, 8, 8, 4],
    filterShape: [3, 3, 4, 1],
    strides: 2,
    pad: 1,
    dimRoundingMode: "ceil",
  },
  {
    name: "depthwise 3x3 stride 2 multiplier 3 explicit padding",
    op: "depthwiseConv2d",
    inputShape: [2, 9, 8, 3],
    filterShape: [3, 3, 3, 3],
    strides: 2,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
];

const NCHW_CASE: GradientCase = {
  name: "conv 3x3 stride 2 same NCHW",
  op: "conv2d",
  inputShape: [2, 4, 15, 15],
  filterShape: [3, 3, 4, 8],
  strides: 2,
  pad: "same",
  dataFormat: "NCHW",
};

const NCHW_EXPLICIT_CASE: GradientCase = {
  name: "conv 3x3 stride 2 explicit padding NCHW",
  op: "conv2d",
  inputShape: [2, 4, 10, 9],
  filterShape: [3, 3, 4, 8],
  strides: 2,
  pad: [
    [0, 0],
    [0, 0],
    [1, 2],
    [0, 1],
  ],
  dataFormat: "NCHW",
};
const CPU_ONLY_CASES = [NCHW_CASE, NCHW_EXPLICIT_CASE];

interface Gradients {
  dx: { shape: number[]; values: Float32Array };
  dFilter: { shape: number[]; values: Float32Array };
}

/** d/dx and d/dfilter of Σ conv(x, filter) ⊙ r for a fixed random r, on the active backend. */
function gradients(c: GradientCase): Gradients {
  return tf.tidy(() => {
    const x = seededTensor(c.inputShape, 1) as tf.Tensor4D;
    const filter = seededTensor(c.filterShape, 2) as tf.Tensor4D;
    const forward = (input: tf.Tensor4D, weights: tf.Tensor4D): tf.Tensor4D =>
      c.op === "conv2d"
        ? tf.conv2d(input, weights, c.strides, c.pad, c.dataFormat ?? "NHWC", 1, c.dimRoundingMode)
        : tf.depthwiseConv2d(input, weights, c.strides, c.pad, "NHWC", 1, c.dimRoundingMode);
    const upstream = seededTensor(forward(x, filter).shape, 3);
    const [dx, dFilter] = tf.grads((input: tf.Tensor, weights: tf.Tensor) =>
      tf.sum(tf.mul(forward(input as tf.Tensor4D, weights as tf.Tensor4D), upstream)),
    )([x, filter]);
    return {
      dx: { shape: dx.shape, values: dx.dataSync() as Float32Array },
      dFilter: { shape: dFilter.shape, values: dFilter.dataSync() as Float32Array },
    };
  });
}

const reference = new Map<string, Gradients>();

beforeAll(async () => {
  await useBackend("cpu");
  restoreOriginalKernels("cpu"); // tfjs's own cpu kernels for the reference
  for (const c of [...CASES, ...CPU_ONLY_CASES]) reference.set(c.name, gradients(c));
});

afterAll(() => {
  registerTrainingKernels("cpu");
  registerTrainingKernels("wasm");
});

const REPLACED_IN_WASM = ["Mean", "Slice", "FusedBatchNorm", "BatchMatMul", "Cast", "Identity", "Sigmoid"];
/** A kernel no backend has: effnet's one-pass swish for inference (activation_simd.ts), for wasm. */
const NEW_IN_WASM = ["EffnetSwish"];
/** A kernel no backend has: effnet's one-pass Adam update (update_kernels.ts), for wasm and cpu. */
const UPDATES = ["EffnetAdamUpdate"];

describe("kernel table", () => {
  it("lists the three kernels wasm lacks, wasm's slow Conv2DBackpropInput, Mean, Slice, FusedBatchNorm, BatchMatMul, Cast, Identity and Sigmoid, the one-pass swish, the two slow cpu filter gradients, and the optimiser updates", () => {
    const missingInWasm = [
      "Conv2DBackpropFilter",
      "DepthwiseConv2dNativeBackpropFilter",
      "DepthwiseConv2dNativeBackpropInput",
    ];
    expect(trainingKernelsFor("wasm").map((k) => k.kernelName)).toEqual([
      ...missingInWasm,
      "Conv2DBackpropInput",
      ...REPLACED_IN_WASM,
      ...NEW_IN_WASM,
      ...UPDATES,
    ]);
    expect(trainingKernelsFor("cpu").map((k) => k.kernelName)).toEqual([
      "Conv2DBackpropFilter",
      "DepthwiseConv2dNativeBackpropFilter",
      ...UPDATES,
    ]);
    restoreOriginalKernels("wasm");
    for (const kernelName of [...missingInWasm, ...NEW_IN_WASM]) {
      expect(tf.getKernel(kernelName, "wasm"), `${kernelName} is really missing in wasm`).toBeUndefined();
    }
    expect(tf.getKernel("Conv2DBackpropInput", "wasm"), "wasm's own Conv2DBackpropInput is back").toBeDefined();
    expect(originalKernel("Conv2DBackpropInput", "wasm")).toBe(tf.getKernel("Conv2DBackpropInput", "wasm"));
    for (const kernelName of REPLACED_IN_WASM) {
      expect(tf.getKernel(kernelName, "wasm"), `wasm's own ${kernelName} is back`).toBe(
        originalKernel(kernelName, "wasm"),
      );
      expect(tf.getKernel(kernelName, "wasm")).toBeDefined();
    }
    expect(trainingKernelsFor("tensorflow")).toEqual([]);
    expect(new Set(TRAINING_KERNELS.map((k) => k.backendName))).toEqual(new Set(["wasm", "cpu"]));
  });

  it("registers idempotently and restores the originals", () => {
    const cpuOriginal = tf.getKernel("Conv2DBackpropFilter", "cpu");
    restoreOriginalKernels("cpu");
    expect(tf.getKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc).toBe(cpuOriginal?.kernelFunc);

    expect(registerTrainingKernels("cpu")).toEqual([
      "Conv2DBackpropFilter",
      "DepthwiseConv2dNativeBackpropFilter",
      ...UPDATES,
    ]);
    const ours = tf.getKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc;
    expect(ours).not.toBe(cpuOriginal?.kernelFunc);
    registerTrainingKernels("cpu");
    expect(tf.getKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc).toBe(ours);
    expect(originalKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc).toBe(cpuOriginal?.kernelFunc);

    restoreOriginalKernels("cpu");
    expect(tf.getKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc).toBe(cpuOriginal?.kernelFunc);
    restoreOriginalKernels("cpu"); // a second restore is a no-op
    expect(tf.getKernel("Conv2DBackpropFilter", "cpu")?.kernelFunc).toBe(cpuOriginal?.kernelFunc);

    registerTrainingKernels("wasm");
    registerTrainingKernels("wasm");
    expect(tf.getKernel("DepthwiseConv2dNativeBackpropInput", "wasm")).toBeDefined();
    expect(originalKernel("DepthwiseConv2dNativeBackpropInput", "wasm")).toBeUndefined();
    restoreOriginalKernels("wasm");
    expect(tf.getKernel("DepthwiseConv2dNativeBackpropInput", "wasm")).toBeUndefined();

    expect(registerTrainingKernels("webgl")).toEqual([]);
  });
});

for (const backendName of ["wasm", "cpu"] as const) {
  const label = backendName === "wasm" ? "wasm with effnet kernels" : "cpu with effnet kernels";
  describe(`gradients on ${label} match tfjs-backend-cpu's originals`, () => {
    beforeAll(async () => {
      await useBackend(backendName);
      registerTrainingKernels(backendName);
    });

    for (const c of backendName === "cpu" ? [...CASES, ...CPU_ONLY_CASES] : CASES) {
      it(c.name, () => {
        const expected = reference.get(c.name)!;
        const actual = gradients(c);
        expectClose(actual.dFilter, expected.dFilter, "d filter");
        expectClose(actual.dx, expected.dx, "d input");
      });
    }

    // One image per chunk (chunks.ts): the batch-summed filter gradients summed chunk by chunk.
    for (const c of CASES.filter((c) => c.inputShape[0] > 1)) {
      it(`${c.name}, one image at a time`, () => {
        const expected = reference.get(c.name)!;
        const actual = withChunkBudget(1, () => gradients(c));
        expectClose(actual.dFilter, expected.dFilter, "d filter");
        expectClose(actual.dx, expected.dx, "d input");
      });
    }

    it("leaks no tensors or buffers across repeated gradient steps", () => {
      const previousIsTest = tf.env().getBool("IS_TEST");
      // Makes the engine check every kernel for leaked data ids (checkKernelForMemLeak).
      tf.env().set("IS_TEST", true);
      try {
        const depthwise = CASES.find((c) => c.op === "depthwiseConv2d" && c.strides === 2)!;
        const conv = CASES.find((c) => c.op === "conv2d" && c.strides === 2)!;
        gradients(depthwise);
        gradients(conv);
        withChunkBudget(1, () => gradients(conv));
        const before = tf.memory();
        for (let i = 0; i < 5; i++) {
          gradients(depthwise);
          gradients(conv);
          withChunkBudget(1, () => [gradients(depthwise), gradients(conv)]);
        }
        const after = tf.memory();
        expect(after.numTensors).toBe(before.numTensors);
        expect(after.numDataBuffers).toBe(before.numDataBuffers);
        expect(after.numBytes).toBe(before.numBytes);
      } finally {
        tf.env().set("IS_TEST", previousIsTest);
      }
    });

    it("returns exactly one new tensor per kernel call and keeps its inputs alive", () => {
      const x = seededTensor([2, 9, 9, 4], 5);
      const dy = seededTensor([2, 5, 5, 4], 6);
      const before = tf.memory().numTensors;
      const dFilter = tf
        .engine()
        .runKernel(
          "DepthwiseConv2dNativeBackpropFilter",
          { x, dy },
          { strides: 2, dilations: 1, pad: "same", filterShape: [3, 3, 4, 1] },
        ) as tf.Tensor;
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(dFilter.shape).toEqual([3, 3, 4, 1]);
      // The kernel borrowed its inputs' buffers; they must still be readable.
      expect(x.dataSync().length).toBe(2 * 9 * 9 * 4);
      expect(dy.dataSync().length).toBe(2 * 5 * 5 * 4);
      tf.dispose([x, dy, dFilter]);
    });

    it("refuses dilation > 1 with a descriptive error", () => {
      const x = seededTensor([1, 9, 9, 2], 7);
      const dy = seededTensor([1, 9, 9, 2], 8);
      expect(() =>
        tf
          .engine()
          .runKernel(
            "DepthwiseConv2dNativeBackpropFilter",
            { x, dy },
            { strides: 1, dilations: [2, 2], pad: "same", filterShape: [3, 3, 2, 1] },
          ),
      ).toThrow(/dilations \[2, 2\] are not supported/);
      tf.dispose([x, dy]);
    });
  });
}

describe("model.fit of a small ConvNet on wasm", () => {
  /** conv → BN → swish → depthwise → BN → swish → global average pool → dense softmax. */
  function buildModel(): tf.Sequential {
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential();
    model.add(
      tf.layers.conv2d({
        inputShape: [16, 16, 3],
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: "same",
        useBias: false,
        kernelInitializer: seeded(1),
      }),
    );
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: "swish" }));
    model.add(
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, depthwiseInitializer: seeded(2) }),
    );
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: "swish" }));
    model.add(tf.layers.globalAveragePooling2d({}));
    model.add(tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(3) }));
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    return model;
  }

  /** Class c = images whose colour channel c is brighter, plus noise: learnable through the global pool. */
  function makeData(count: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
    const noise = seededValues(count * 16 * 16 * 3, 11);
    const pixels = new Float32Array(noise.length);
    const classes: number[] = [];
    for (let n = 0; n < count; n++) {
      const label = n % 3;
      classes.push(label);
      for (let p = 0; p < 16 * 16; p++) {
        for (let channel = 0; channel < 3; channel++) {
          const i = (n * 256 + p) * 3 + channel;
          pixels[i] = noise[i] + (channel === label ? 0.8 : 0);
        }
      }
    }
    return {
      images: tf.tensor4d(pixels, [count, 16, 16, 3]),
      labels: tf.oneHot(tf.tensor1d(classes, "int32"), 3) as tf.Tensor2D,
    };
  }

  async function fitLosses(backendName: "wasm" | "cpu"): Promise<number[]> {
    await useBackend(backendName);
    registerTrainingKernels(backendName);
    const model = buildModel();
    const { images, labels } = makeData(24);
    try {
      // shuffle: false keeps the run deterministic (tfjs shuffles with Math.random).
      const history = await model.fit(images, labels, { epochs: 6, batchSize: 8, shuffle: false, verbose: 0 });
      return history.history.loss as number[];
    } finally {
      model.dispose();
      tf.dispose([images, labels]);
    }
  }

  it("trains: the loss goes down, and tracks the same run on cpu", async () => {
    const wasmLosses = await fitLosses("wasm");
    expect(wasmLosses.every(Number.isFinite)).toBe(true);
    expect(wasmLosses[wasmLosses.length - 1]).toBeLessThan(0.8 * wasmLosses[0]);

    const cpuLosses = await fitLosses("cpu");
    for (let epoch = 0; epoch < wasmLosses.length; epoch++) {
      expect(Math.abs(wasmLosses[epoch] - cpuLosses[epoch])).toBeLessThan(1e-3 * Math.max(1, cpuLosses[epoch]));
    }
  });
});
