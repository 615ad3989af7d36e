/**
 * `BatchMatMul` for tfjs-backend-wasm with transposed operands, on XNNPACK.
 *
 * Why: tfjs-backend-wasm 4.22 hands a matrix product to XNNPACK's fully-connected
 * operator only when neither operand is transposed and there is one batch
 * (tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc, `batchMatMul`); every other product runs
 * `slow_batch_matmul`, a blocked scalar triple loop. tfjs-core's gradient of a dense
 * layer (gradients/BatchMatMul_grad.ts) is exactly such products: dx = dy·Wᵀ and
 * dW = xᵀ·dy, for EfficientNet-B0's classifier (1280 → 1000) a scalar loop over
 * 1.28 M weights twice per step, growing with the batch.
 *
 * Here a transposed product becomes a plain one by transposing the cheaper side, using
 *   A·Bᵀ = (B·Aᵀ)ᵀ,   Aᵀ·B = (Bᵀ·A)ᵀ,   Aᵀ·Bᵀ = (B·A)ᵀ:
 * either transpose the transposed operand(s) themselves, or the other operand and the
 * result, whichever moves fewer values (for the classifier's dx: dy and the [N, 1280]
 * result instead of the 1.28 M-value weight matrix). Only the summation order differs
 * from the scalar loop (float32 rounding; tested at 1e-4). Batched products (batch > 1)
 * and non-float32 operands go to the original kernel.
 */
import * as tf from "@tensorflow/tfjs";
import type { BatchMatMulAttrs, KernelBackend, KernelFunc, Tensor, Tensor2D, TensorInfo } from "@tensorflow/tfjs";
import { runCompositeKernel } from "./composite.ts";

type Args = { inputs: { a: TensorInfo; b: TensorInfo }; backend: KernelBackend; attrs: BatchMatMulAttrs };

/** The [rows, columns] of a rank ≥ 2 operand whose leading dims are all 1, or undefined if it has a real batch. */
function matrixShape(info: TensorInfo): [number, number] | undefined {
  const rank = info.shape.length;
  if (rank < 2 || info.shape.slice(0, -2).some((d) => d !== 1)) return undefined;
  return [info.shape[rank - 2], info.shape[rank - 1]];
}

/**
 * op(A)·op(B) from plain products. Both ways are exact rewrites; `direct` transposes
 * the transposed operands, `swapped` computes (op(B)ᵀ·op(A)ᵀ)ᵀ, transposing the
 * others and the result. The one moving fewer values is used.
 */
function transposedProduct(a: Tensor2D, b: Tensor2D, transposeA: boolean, transposeB: boolean): Tensor2D {
  const rows = transposeA ? a.shape[1] : a.shape[0];
  const columns = transposeB ? b.shape[0] : b.shape[1];
  const directCost = (transposeA ? a.size : 0) + (transposeB ? b.size : 0);
  const swappedCost = (transposeA ? 0 : a.size) + (transposeB ? 0 : b.size) + rows * columns;
  if (directCost <= swappedCost) return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
  // op(B)ᵀ is B when transposeB, else Bᵀ; likewise for A.
  const bT = transposeB ? b : tf.transpose(b);
  const aT = transposeA ? a : tf.transpose(a);
  return tf.transpose(tf.matMul(bT, aT));
}

export function makeWasmBatchMatMul(original: () => KernelFunc): KernelFunc {
  function batchMatMul(args: Args): TensorInfo {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    const aMatrix = matrixShape(a);
    const bMatrix = matrixShape(b);
    const plain = !attrs.transposeA && !attrs.transposeB;
    if (plain || !aMatrix || !bMatrix || a.dtype !== "float32" || b.dtype !== "float32")
      return original()(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    // The output's leading dims are the broadcast of the operands' (all 1 here).
    const leading = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    return runCompositeKernel(backend, { a, b }, (tensors) => {
      const product = transposedProduct(
        tf.reshape(tensors.a, aMatrix) as Tensor2D,
        tf.reshape(tensors.b, bMatrix) as Tensor2D,
        attrs.transposeA,
        attrs.transposeB,
      );
      return tf.reshape(product, [...leading, ...product.shape]);
    });
  }
  return batchMatMul as unknown as KernelFunc;
}
