import type { Activation } from "./activations.ts";
import type { RoundingPresetName } from "./rounding.ts";

/**
 * Conventions: where the reference implementations compute a different function from the
 * same stage table. Parameter and MAC counts cannot tell them apart, the logits can: a
 * model with torchvision's weights computes torchvision's function only with all of
 * torchvision's conventions. A spec names one (`convention torchvision`); the settings
 * that have their own line (`rounding`, `batch_norm`, `preprocessing`) override one field.
 *
 * Checked against the sources (torchvision 0.14 models/efficientnet.py, mobilenetv2.py,
 * resnet.py, ops/misc.py Conv2dNormActivation; Keras applications/efficientnet.py,
 * imagenet_utils.correct_pad):
 * - padding of strided k×k windows: Keras pads ZeroPadding2D(correct_pad(x, k)) before a
 *   `valid` conv, i.e. TensorFlow's `same` (one row/column more at the bottom/right for
 *   even inputs); torchvision pads (k - 1) // 2 on every side. Stride-1 windows agree
 *   (`same` is symmetric for odd k), so only strided ones are emitted differently. Keras's
 *   MobileNet (v1) pads its strided depthwise convs ((0, 1), (0, 1)) whatever the size: a
 *   rule of its own (`padding keras_mobilenet`), equal to Keras's on even inputs only.
 * - input preprocessing: Keras's EfficientNet takes pixels in [0, 255] and normalises in
 *   the model (Rescaling(1/255), then Normalization whose mean and variance are weights);
 *   torchvision's models take `Normalize(mean, std)` of [0, 1] images, done by its
 *   transforms; effnet emits that normalisation into the model too, so that every model
 *   takes pixels in [0, 255] and needs no outside preprocessing.
 * - batch norm: Keras BatchNormalization(momentum 0.99, epsilon 1e-3) in efficientnet.py;
 *   torchvision nn.BatchNorm2d's defaults (eps 1e-5, momentum 0.1 = Keras momentum 0.9)
 *   for EfficientNet B0–B4, MobileNetV2, ResNet and MnasNet's eps (EfficientNetV2 passes
 *   eps 1e-3; B5–B7 eps 1e-3, momentum 0.01 because their weights were ported from TF:
 *   declare those with `batch_norm`).
 * - the classifier: Keras's `predictions` apply softmax (classifier_activation); torchvision's
 *   `classifier`/`fc` is a bare Linear, whose outputs are logits.
 * The same in both: SE (avg pool, 1x1 conv with bias, the block's activation, 1x1 conv with
 * bias, sigmoid, scale; squeeze width max(1, input channels / 4)), stochastic depth
 * (rate × block index / blocks, whole examples, only on identity shortcuts), BN after every
 * conv and the activation after BN, dropout before the classifier: nothing to declare.
 *
 * Adding a convention is one entry; adding a field to every entry (the weight
 * initialisers, say) is one field here, read where the layers are built.
 */
export interface Convention {
  /** Where the convention comes from, for reports and generated headers. */
  readonly source: string;
  /** The head's width rule (src/vocabulary/rounding.ts, ROUNDING_PRESETS). */
  readonly rounding: RoundingPresetName;
  /** Padding of strided windows (PADDING_RULES). */
  readonly padding: PaddingRuleName;
  /** What the model does to its [0, 255] pixel input first (PREPROCESSING). */
  readonly preprocessing: PreprocessingName;
  /** Keras-style momentum (moving = moving · momentum + batch · (1 − momentum)) and epsilon. */
  readonly batchNorm: { readonly momentum: number; readonly epsilon: number };
  /** The classifier's activation: probabilities (softmax) or logits (linear). */
  readonly classifierActivation: Extract<Activation, "softmax" | "linear">;
}

/** How one strided k×k window pads explicitly: [before, after] rows (or columns) for an input of `size`. */
export interface WindowPadding {
  readonly summary: string;
  readonly pads: (size: number, kernel: number) => readonly [number, number];
}

export const WINDOW_PADDINGS = {
  // Keras imagenet_utils.correct_pad: adjust = 1 - size % 2; ((k//2 - adjust, k//2), …). At
  // stride 2 it is TensorFlow's `same` (Conv2D(padding="same")) at every size.
  correct_pad: {
    summary:
      "Keras imagenet_utils.correct_pad (TensorFlow `same`): one more row/column at the bottom/right for even inputs",
    pads: (size, kernel) => [Math.floor(kernel / 2) - (1 - (size % 2)), Math.floor(kernel / 2)],
  },
  // torchvision ops/misc.py ConvNormActivation: padding = (kernel_size - 1) // 2 * dilation.
  symmetric: {
    summary: "(k − 1) // 2 on every side (PyTorch's padding=(k - 1) // 2)",
    pads: (_size, kernel) => [Math.floor((kernel - 1) / 2), Math.floor((kernel - 1) / 2)],
  },
  // Keras applications/mobilenet.py _depthwise_conv_block: ZeroPadding2D(((0, 1), (0, 1))) before
  // every strided DepthwiseConv2D((3, 3), padding="valid"), whatever the input's size. That is
  // correct_pad's padding of an even input; for other kernels (Keras's MobileNet has none) the
  // same: (k//2 − 1, k//2), so that an even input still halves.
  even_correct_pad: {
    summary:
      "correct_pad as for an even input, at every size: (k//2 − 1, k//2), ((0, 1), (0, 1)) for 3×3 (Keras mobilenet.py's ZeroPadding2D(((0, 1), (0, 1))))",
    pads: (_size, kernel) => [Math.floor(kernel / 2) - 1, Math.floor(kernel / 2)],
  },
} as const satisfies Record<string, WindowPadding>;

export type WindowPaddingName = keyof typeof WINDOW_PADDINGS;

/** The windows a padding rule tells apart: convolutions, depthwise convolutions, max pools. */
export type PaddedWindow = "conv" | "depthwise" | "pool";

/** How a reference pads its strided windows, by the kind of window (WINDOW_PADDINGS). */
export interface PaddingRule {
  readonly summary: string;
  readonly windows: { readonly [W in PaddedWindow]: WindowPaddingName };
}

const everyWindow = (padding: WindowPaddingName) => ({ conv: padding, depthwise: padding, pool: padding });

export const PADDING_RULES = {
  // Keras applications/efficientnet.py: stem and blocks pad ZeroPadding2D(correct_pad(x, k)), then `valid`.
  keras: {
    summary:
      "TensorFlow `same` (Keras): ZeroPadding2D(correct_pad) + `valid`, one more row/column at the bottom/right for even inputs",
    windows: everyWindow("correct_pad"),
  },
  symmetric: {
    summary: "symmetric (PyTorch): (k − 1) // 2 on every side, ZeroPadding2D + `valid`",
    windows: everyWindow("symmetric"),
  },
  // Keras applications/mobilenet.py (MobileNet v1): the stem (_conv_block) is Conv2D(padding="same",
  // strides 2), i.e. correct_pad; each strided _depthwise_conv_block pads ((0, 1), (0, 1)) at every
  // size. The two agree on even inputs and differ by a row and a column on odd ones (225 px: 113
  // rows after the stem, then 56, not 57, after the first strided block).
  keras_mobilenet: {
    summary:
      "as Keras's MobileNet (v1): strided convs TensorFlow `same` (correct_pad), strided depthwise convs ZeroPadding2D(((0, 1), (0, 1))) at every size (mobilenet.py _depthwise_conv_block)",
    windows: { conv: "correct_pad", depthwise: "even_correct_pad", pool: "correct_pad" },
  },
} as const satisfies Record<string, PaddingRule>;

export type PaddingRuleName = keyof typeof PADDING_RULES;

/** ImageNet's per-channel statistics of [0, 1] RGB (torchvision transforms, Keras IMAGENET_*_RGB). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface Preprocessing {
  readonly summary: string;
  /** Rescaling of the [0, 255] input, then a per-channel normalisation, or nothing. */
  readonly rescale?: number;
  readonly normalization?: {
    readonly mean: readonly number[];
    /** Standard deviations; the layer divides by them. */
    readonly std: readonly number[];
    /**
     * Keras's Normalization keeps mean, variance and count as (non-trainable) weights, 7
     * parameters for RGB, which Keras's model.count_params() and so its B0 total of
     * 5,330,571 include; torchvision's transforms are constants outside the model.
     */
    readonly stored: boolean;
  };
}

export const PREPROCESSING = {
  keras: {
    summary:
      "keras: Rescaling(1/255), Normalization(ImageNet mean, variance) with 7 stored statistics (efficientnet.py)",
    rescale: 1 / 255,
    normalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD, stored: true },
  },
  torchvision: {
    summary: "torchvision: ToTensor (÷255), Normalize(ImageNet mean, std) of its transforms, as constants in the model",
    rescale: 1 / 255,
    normalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD, stored: false },
  },
  // Keras mobilenet.py, mobilenet_v2.py preprocess_input: imagenet_utils mode "tf", x / 127.5 − 1,
  // outside the model; here (x / 255 − 0.5) / 0.5, the same [−1, 1], inside it, with no weights.
  tf: {
    summary:
      'tf: pixels to [−1, 1] (Keras mobilenet.preprocess_input, mode "tf"): Rescaling(1/255), Normalize(0.5, 0.5) as constants',
    rescale: 1 / 255,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], stored: false },
  },
  // tensorflow/tpu efficientnet/lite/efficientnet_lite_builder.py: MEAN_RGB 127, STDDEV_RGB 128
  // ("inception-style … for better post-quantization"), (x − 127) / 128 = (x/255 − 127/255) / (128/255).
  inception: {
    summary:
      "inception: (x − 127) / 128 (EfficientNet-lite's MEAN_RGB, STDDEV_RGB): Rescaling(1/255), Normalize as constants",
    rescale: 1 / 255,
    normalization: { mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255], stored: false },
  },
  none: { summary: "none: the model sees its input as given" },
} as const satisfies Record<string, Preprocessing>;

export type PreprocessingName = keyof typeof PREPROCESSING;

export const CONVENTIONS = {
  keras: {
    source: "Keras applications/efficientnet.py (the TF TPU reference's conventions)",
    rounding: "keras",
    padding: "keras",
    preprocessing: "keras",
    batchNorm: { momentum: 0.99, epsilon: 1e-3 },
    classifierActivation: "softmax",
  },
  torchvision: {
    source: "torchvision 0.14 models/efficientnet.py, mobilenetv2.py, resnet.py",
    rounding: "torchvision",
    padding: "symmetric",
    preprocessing: "torchvision",
    // nn.BatchNorm2d(eps=1e-5, momentum=0.1): running = (1 − 0.1) · running + 0.1 · batch.
    batchNorm: { momentum: 0.9, epsilon: 1e-5 },
    classifierActivation: "linear",
  },
} as const satisfies Record<string, Convention>;

export type ConventionName = keyof typeof CONVENTIONS;

/** The convention of the code the published EfficientNet weights were trained with (TF TPU, ported to Keras). */
export const DEFAULT_CONVENTION: ConventionName = "keras";

export const conventionNames = () => Object.keys(CONVENTIONS) as ConventionName[];
