/**
 * effnet's WebAssembly SIMD sigmoid and swish (src/runtime/kernels/activation_simd.ts, the
 * loop in simd_loops.ts): their error over every float32 input the loop computes exactly
 * (all 2.2·10^9 of [−88, 87]), against double precision, in float32 ulps of the result
 * wherever it is a normal float; and their time per element against tfjs-backend-wasm's own
 * Sigmoid, tfjs-layers' swish (x·1, Sigmoid, a multiply) and one multiply, on B0's largest
 * swish (112×112×96).
 *
 *   npm run bench -- activations     (or: node --import tsx bench/activations.ts [--quick])
 *
 * --quick sweeps every 64th float instead of all of them.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { EFFNET_SWISH } from "../src/runtime/kernels/activation_simd.ts";
import { originalKernel, registerTrainingKernels } from "../src/runtime/kernels/index.ts";

const STRIDE = process.argv.includes("--quick") ? 64 : 1;
const CHUNK = 1 << 22;
const SMALLEST_NORMAL = 2 ** -126;

await tf.setBackend("wasm");
await tf.ready();
registerTrainingKernels("wasm");

/** One float32 ulp of |v| (a normal float), from the exponent bits of v rounded to float32. */
const ulpScratch = new Float32Array(1);
const ulpBits = new Uint32Array(ulpScratch.buffer);
function ulpOf(v: number): number {
  ulpScratch[0] = v;
  const exponent = (ulpBits[0] >>> 23) & 0xff;
  // 2^(exponent − 127 − 23): a normal float's bits, or a subnormal's below 2^-103
  ulpBits[0] = exponent > 23 ? (exponent - 23) << 23 : 1 << (exponent - 1);
  return ulpScratch[0];
}

const swishKernel = (x: tf.Tensor) => tf.engine().runKernel(EFFNET_SWISH, { x }) as tf.Tensor;
const functions = [
  { name: "sigmoid", simd: (x: tf.Tensor) => tf.sigmoid(x), exact: (v: number) => 1 / (1 + Math.exp(-v)) },
  { name: "swish", simd: swishKernel, exact: (v: number) => v / (1 + Math.exp(-v)) },
];
const worst = functions.map(() => ({ ulps: 0, at: 0, relative: 0 }));

/** The bit patterns of the floats in [−88, 87]: [0, bits(87)] and [bits(−0), bits(−88)]. */
const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
const ranges: [number, number][] = [
  [0, bitsOf(87)],
  [bitsOf(-0), bitsOf(-88)],
];
const total = ranges.reduce((n, [lo, hi]) => n + Math.floor((hi - lo) / STRIDE) + 1, 0);
let done = 0;
const start = performance.now();
const bits = new Uint32Array(CHUNK);
const values = new Float32Array(bits.buffer);
for (const [lo, hi] of ranges)
  for (let first = lo; first <= hi; first += CHUNK * STRIDE) {
    let count = 0;
    for (let b = first; b <= hi && count < CHUNK; b += STRIDE) bits[count++] = b;
    const x = tf.tensor1d(values.subarray(0, count));
    functions.forEach((f, k) => {
      const y = f.simd(x);
      const actual = y.dataSync() as Float32Array;
      y.dispose();
      for (let i = 0; i < count; i++) {
        const expected = f.exact(values[i]);
        if (Math.abs(expected) < SMALLEST_NORMAL) continue;
        const error = Math.abs(actual[i] - expected);
        const ulps = error / ulpOf(expected);
        if (ulps > worst[k].ulps) worst[k] = { ...worst[k], ulps, at: values[i] };
        worst[k].relative = Math.max(worst[k].relative, error / Math.abs(expected));
      }
    });
    x.dispose();
    done += count;
    const elapsed = (performance.now() - start) / 1000;
    process.stderr.write(
      `\r${((100 * done) / total).toFixed(1)}% of ${total} inputs, ETA ${((elapsed / done) * (total - done)).toFixed(0)} s  `,
    );
  }
process.stderr.write("\n");
console.log(
  `Error against double precision over ${STRIDE === 1 ? "every" : `every ${STRIDE}th`} float32 in [−88, 87] (${total} inputs), where the result is a normal float:`,
);
functions.forEach((f, k) =>
  console.log(
    `  ${f.name}: at most ${worst[k].ulps.toFixed(2)} ulps (at x = ${worst[k].at}), ${worst[k].relative.toExponential(2)} relative`,
  ),
);

/** The least and the median of 200 runs, in ms. */
function time(run: () => tf.Tensor): string {
  const runs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const y = run();
    runs.push(performance.now() - t0);
    y.dispose();
  }
  runs.sort((a, b) => a - b);
  return `${runs[0].toFixed(3)} ms (median ${runs[100].toFixed(3)} ms)`;
}
const x = tf.randomNormal([1, 112, 112, 96], 0, 3, "float32", 1);
const tfjsSigmoid = () =>
  tf.engine().makeTensorFromTensorInfo(
    originalKernel(tf.Sigmoid, "wasm")!.kernelFunc({
      inputs: { x },
      backend: tf.backend(),
      attrs: {},
    }) as tf.TensorInfo,
  );
const tfjsSwish = () =>
  tf.tidy(() => {
    const s = tfjsSigmoid();
    return tf.mul(s, tf.mul(x, 1));
  });
console.log(`Time on ${x.size} elements (the least of 200 runs):`);
console.log(`  tfjs-backend-wasm's Sigmoid          ${time(tfjsSigmoid)}`);
console.log(`  effnet's SIMD Sigmoid                ${time(() => tf.sigmoid(x))}`);
console.log(`  tfjs-layers' swish (x·1, σ, ×)       ${time(tfjsSwish)}`);
console.log(`  effnet's EffnetSwish (one pass)      ${time(() => swishKernel(x))}`);
console.log(`  one Multiply (x·x), for scale        ${time(() => tf.mul(x, x))}`);
