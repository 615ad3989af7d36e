/**
 * Gradients of Add, Sub, Multiply, Square and Mean, replacing tfjs-core
 * 4.22's (tfjs-core/src/gradients/{Add,Sub,Multiply,Square,Mean}_grad.ts).
 *
 * Why: a training-mode BatchNormalization runs `tf.moments` (Mean, Sub,
 * Square, Mean) and squeeze-and-excitation multiplies an activation by a
 * per-image [N, 1, 1, C] gate; their tfjs-core gradients make, on
 * tfjs-backend-wasm, several needless full-size passes per layer:
 *  - broadcast reductions use tf.sum over leading axes, which wasm's Sum
 *    implements by transposing the whole tensor first (see reduce.ts); here
 *    they go through `sumOverAxes` (XNNPACK average pooling);
 *  - `cast(x, 'float32')` of a tensor that already is float32 still runs the
 *    Cast kernel, which on wasm copies the whole tensor; here it is skipped;
 *  - Mean's gradient is `div(mul(dy, ones(x.shape)), n)`: a JS-built
 *    full-size `ones` uploaded to wasm and two full-size passes; here it is a
 *    Fill of 1/n and one broadcasting multiply.
 * The math is unchanged; results differ only by float32 rounding (summation
 * order; dy·(1/n) for dy/n). Tested against tfjs-core's own gradients at 1e-4
 * relative (test/runtime/wasm_ops.test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, NamedAttrMap, Tensor } from "@tensorflow/tfjs";
import { sumOverAxes } from "./reduce.ts";

const asFloat = (t: Tensor): Tensor => (t.dtype === "float32" ? t : tf.cast(t, "float32"));

/** dy summed down to `shape` (the broadcast-reduction every binary gradient ends in). */
function reduceTo(dy: Tensor, shape: number[], outShape: number[]): Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? sumOverAxes(dy, axes) : dy, shape);
}

export const addGradConfig: GradConfig = {
  kernelName: tf.Add,
  inputsToSave: ["a", "b"],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [a, b] = saved;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return {
      a: () => reduceTo(dy as Tensor, a.shape, outShape),
      b: () => reduceTo(dy as Tensor, b.shape, outShape),
    };
  },
};

export const subGradConfig: GradConfig = {
  kernelName: tf.Sub,
  inputsToSave: ["a", "b"],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [a, b] = saved;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return {
      a: () => reduceTo(dy as Tensor, a.shape, outShape),
      b: () => tf.neg(reduceTo(dy as Tensor, b.shape, outShape)),
    };
  },
};

export const multiplyGradConfig: GradConfig = {
  kernelName: tf.Multiply,
  inputsToSave: ["a", "b"],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [a, b] = saved;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return {
      a: () => reduceTo(tf.mul(dy as Tensor, asFloat(b)), a.shape, outShape),
      b: () => reduceTo(tf.mul(dy as Tensor, asFloat(a)), b.shape, outShape),
    };
  },
};

export const squareGradConfig: GradConfig = {
  kernelName: tf.Square,
  inputsToSave: ["x"],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved;
    return { x: () => tf.mul(dy as Tensor, tf.mul(asFloat(x), tf.scalar(2))) };
  },
};

export const meanGradConfig: GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ["x"],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
    const reduceSize = tf.util.sizeFromShape(tf.backend_util.computeOutAndReduceShapes(x.shape, axes)[1]);
    return {
      x: () => {
        const expandedDyShape = x.shape.slice();
        for (const axis of axes) expandedDyShape[axis] = 1;
        const expandedDy = tf.reshape(dy as Tensor, expandedDyShape);
        return tf.mul(expandedDy, tf.fill(x.shape, 1 / reduceSize, "float32"));
      },
    };
  },
};
