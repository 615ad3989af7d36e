/**
 * Running a batch-summed gradient kernel a few images at a time.
 *
 * Why: a filter gradient is a sum over the batch, Σ_n dw_n, and the intermediates our
 * composite kernels build for it (padded inputs, phase splits, im2col patch matrices,
 * per-tap products) grow with the batch: for EfficientNet-B0 at 224 px, batch 16, the
 * depthwise filter gradient of block 2a held 459 MiB at once and the conv filter
 * gradients 148 MiB (bench/memory.ts, per-kernel transients). The wasm heap never
 * shrinks, so that peak is paid for the rest of the run. Summing over chunks of images
 * bounds the intermediates by CHUNK_BYTES whatever the batch; the price is one copy of
 * each chunk's inputs (a contiguous Slice) and one add per chunk, and a different float32
 * summation order (the sums are still tested at 1e-4 against tfjs's).
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Tensor4D } from "@tensorflow/tfjs";

/** Intermediates a chunk may hold: big enough that matMuls stay efficient, small beside a 4 GiB heap. */
export const CHUNK_BYTES = 48 * 2 ** 20;

let budgetBytes = CHUNK_BYTES;

/** Runs `f` with another chunk budget: tests use a tiny one to exercise chunking at small sizes. */
export function withChunkBudget<T>(bytes: number, f: () => T): T {
  const previous = budgetBytes;
  budgetBytes = bytes;
  try {
    return f();
  } finally {
    budgetBytes = previous;
  }
}

/** Images per chunk when one image needs `bytesPerImage` of intermediates (at least 1). */
export function imagesPerChunk(bytesPerImage: number, budget = budgetBytes): number {
  return Math.max(1, Math.floor(budget / Math.max(1, bytesPerImage)));
}

/** Bytes of one image (the batch axis left out) of an NHWC float32 tensor. */
export const imageBytes = (t: Tensor): number => (t.size / t.shape[0]) * 4;

/**
 * `compute(...inputs)` for a kernel whose result is a sum over the batch axis of its
 * inputs (all NHWC with the same batch): run on the whole batch when it fits, else on
 * chunks of `imagesPerChunk` images, each in its own tidy, adding the partial results.
 */
export function sumOverImageChunks(
  inputs: readonly Tensor4D[],
  bytesPerImage: number,
  compute: (...chunk: Tensor4D[]) => Tensor,
  budget = budgetBytes,
): Tensor {
  const batch = inputs[0].shape[0];
  const chunk = imagesPerChunk(bytesPerImage, budget);
  if (chunk >= batch) return compute(...inputs);
  let sum: Tensor | undefined;
  for (let start = 0; start < batch; start += chunk) {
    const count = Math.min(chunk, batch - start);
    const partial = tf.tidy(() =>
      compute(...inputs.map((t) => tf.slice(t, [start, 0, 0, 0], [count, -1, -1, -1]) as Tensor4D)),
    );
    if (sum === undefined) sum = partial;
    else {
      const next = tf.add(sum, partial);
      tf.dispose([sum, partial]);
      sum = next;
    }
  }
  return sum!;
}
