import type { ConventionName } from "../vocabulary/conventions.ts";

/**
 * The one table of weight initialisation: how a freshly built model's weights are drawn,
 * one entry per reference convention, each mapping the weights a layer has to the tfjs
 * initialiser that draws them as the reference does. The generated module writes the
 * chosen initialiser into every layer's config, so a reader sees it and a saved model
 * records it; every draw takes the layer's own seed (buildModel's `seed` and the layer's
 * index), so a seeded build is bit for bit repeatable.
 *
 * Where tfjs's built-in initialisers do not draw the reference's distribution, an entry
 * says why and emits one that does (checked statistically in test/codegen/initialization.test.ts):
 * - tfjs's varianceScaling({ distribution: "normal" }) truncates at ±2σ with
 *   σ = √(scale / fan) (tfjs-layers initializers.ts, VarianceScaling.apply), while
 *   Keras's "truncated_normal" divides σ by 0.87962566103423978, the standard deviation
 *   of a unit normal truncated at ±2 (keras initializers.py, VarianceScaling.__call__), so
 *   that the standard deviation *after* truncation is √(scale / fan). tfjs's σ would be
 *   12% too small, 23% of the variance lost at every layer; dividing the scale by
 *   0.87962566103423978² restores Keras's σ with tfjs's own, serialisable class.
 * - torchvision counts a depthwise convolution's fan-out as its output channels × kernel
 *   area (the weight is [C, 1, k, k]; torch.nn.init._calculate_fan_in_and_fan_out uses
 *   size(0)), while tfjs and Keras count kernel area × depth multiplier ([k, k, C, 1],
 *   computeFans): C times fewer. So the torchvision entries compute the fan themselves
 *   and draw with a fixed standard deviation, and kaiming_normal_ is an untruncated
 *   normal (tfjs's randomNormal), not tfjs's truncated varianceScaling.
 */

/** Which weights a convention initialises, by the role they play. */
export type WeightRole = "convKernel" | "depthwiseKernel" | "denseKernel" | "bias" | "gamma" | "beta";

/** What an initialiser's code may depend on. */
export interface WeightSite {
  /**
   * The weight's shape in tfjs's (and Keras's) layout: conv [kh, kw, in, out], depthwise
   * [kh, kw, in, multiplier], dense [in, out], else [channels].
   */
  readonly shape: readonly number[];
  /** Code for a dense layer's output units: `classes` for the classifier, whose size is a build option. */
  readonly units: string;
  /** Code for the layer's seed (`undefined` at run time when buildModel has no seed). */
  readonly seed: string;
}

export interface InitializerDef {
  /** Module-level helper the code calls (a key of INITIALIZER_HELPERS), emitted once into modules that use it. */
  readonly helper?: InitializerHelper;
  /** The initialiser's code: a tfjs initialiser expression or a tfjs initialiser name. */
  readonly code: (site: WeightSite) => string;
}

export interface InitializationConvention {
  /** Where the convention comes from, for reports and the module's comments. */
  readonly source: string;
  readonly initializers: { readonly [R in WeightRole]: InitializerDef };
}

/** The standard deviation of a unit normal truncated at ±2 (scipy.stats.truncnorm.std(a=-2, b=2)), Keras's constant. */
export const TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

/** TypeScript-only text in the `ts` dialect, nothing in `js` (src/codegen/emit.ts, Dialect). */
type TypeText = (text: string) => string;

/** Module-level helpers, each with a doc comment citing the reference rule it reproduces; type annotations through `ts`. */
export const INITIALIZER_HELPERS = {
  kerasConvKernel: (ts: TypeText) => `
/**
 * Keras EfficientNet's CONV_KERNEL_INITIALIZER, VarianceScaling(scale=2.0, mode="fan_out",
 * distribution="truncated_normal"): a normal truncated at ±2σ whose standard deviation
 * after truncation is √(2 / fan_out). Keras divides σ by ${TRUNCATED_NORMAL_STDDEV} (the
 * standard deviation of a unit normal truncated at ±2); tfjs's varianceScaling does not,
 * so the scale carries that factor.
 */
const kerasConvKernel = (seed${ts(": number | undefined")}) =>
  tf.initializers.varianceScaling({ scale: 2 / ${TRUNCATED_NORMAL_STDDEV} ** 2, mode: "fanOut", distribution: "normal", seed });
`,
  kerasDenseKernel: (ts: TypeText) => `
/**
 * Keras EfficientNet's DENSE_KERNEL_INITIALIZER, VarianceScaling(scale=1/3, mode="fan_out",
 * distribution="uniform"): uniform on ±√(1 / units), the same in tfjs.
 */
const kerasDenseKernel = (seed${ts(": number | undefined")}) =>
  tf.initializers.varianceScaling({ scale: 1 / 3, mode: "fanOut", distribution: "uniform", seed });
`,
  kaimingNormalFanOut: (ts: TypeText) => `
/**
 * torchvision's nn.init.kaiming_normal_(weight, mode="fan_out"): an untruncated normal with
 * σ = √(2 / fan_out), fan_out = output channels × kernel area as torch counts it (for a
 * depthwise convolution all its channels, where tfjs's own fan would count one).
 */
const kaimingNormalFanOut = (fanOut${ts(": number")}, seed${ts(": number | undefined")}) =>
  tf.initializers.randomNormal({ mean: 0, stddev: Math.sqrt(2 / fanOut), seed });
`,
  torchvisionLinear: (ts: TypeText) => `
/**
 * torchvision EfficientNet's classifier: init_range = 1 / √out_features,
 * nn.init.uniform_(weight, -init_range, init_range).
 */
const torchvisionLinear = (units${ts(": number")}, seed${ts(": number | undefined")}) =>
  tf.initializers.randomUniform({ minval: -1 / Math.sqrt(units), maxval: 1 / Math.sqrt(units), seed });
`,
} as const;

export type InitializerHelper = keyof typeof INITIALIZER_HELPERS;

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/** tfjs's named constant initialisers: biases 0, batch-norm γ 1 and β 0 in every reference. */
const ZEROS: InitializerDef = { code: () => `"zeros"` };
const ONES: InitializerDef = { code: () => `"ones"` };

export const INITIALIZATION_CONVENTIONS = {
  // Keras applications/efficientnet.py: CONV_KERNEL_INITIALIZER for Conv2D and
  // DepthwiseConv2D (depthwise_initializer), DENSE_KERNEL_INITIALIZER and
  // bias_initializer=constant(0) for the classifier; Conv2D biases (the SE convolutions)
  // and BatchNormalization keep Keras's defaults, zeros and γ = 1, β = 0.
  keras: {
    source:
      'Keras applications/efficientnet.py: convolutions VarianceScaling(2.0, "fan_out", "truncated_normal"), dense VarianceScaling(1/3, "fan_out", "uniform"), biases 0, batch norm γ 1 β 0',
    initializers: {
      convKernel: { helper: "kerasConvKernel", code: (s) => `kerasConvKernel(${s.seed})` },
      depthwiseKernel: { helper: "kerasConvKernel", code: (s) => `kerasConvKernel(${s.seed})` },
      denseKernel: { helper: "kerasDenseKernel", code: (s) => `kerasDenseKernel(${s.seed})` },
      bias: ZEROS,
      gamma: ONES,
      beta: ZEROS,
    },
  },
  // torchvision models/efficientnet.py, EfficientNet.__init__: kaiming_normal_(mode="fan_out")
  // for every nn.Conv2d (depthwise and SE ones included) with zeros_ biases, ones_/zeros_
  // for BatchNorm2d, uniform_(±1/√out_features) and zeros_ for the nn.Linear classifier.
  // (mobilenetv2.py draws its Linear from normal(0, 0.01) and resnet.py keeps nn.Linear's
  // default; this entry is efficientnet.py's, the convention the `torchvision` preset names.)
  torchvision: {
    source:
      'torchvision models/efficientnet.py: convolutions kaiming_normal_(mode="fan_out"), classifier uniform(±1/√out_features), biases 0, batch norm γ 1 β 0',
    initializers: {
      // Conv kernel [kh, kw, in, out]: torch's fan_out = out × kh × kw.
      convKernel: {
        helper: "kaimingNormalFanOut",
        code: (s) => `kaimingNormalFanOut(${s.shape[0] * s.shape[1] * s.shape[3]}, ${s.seed})`,
      },
      // Depthwise kernel [kh, kw, C, multiplier]: torch's weight [C·multiplier, 1, kh, kw], fan_out = C × multiplier × kh × kw.
      depthwiseKernel: {
        helper: "kaimingNormalFanOut",
        code: (s) => `kaimingNormalFanOut(${product(s.shape)}, ${s.seed})`,
      },
      denseKernel: { helper: "torchvisionLinear", code: (s) => `torchvisionLinear(${s.units}, ${s.seed})` },
      bias: ZEROS,
      gamma: ONES,
      beta: ZEROS,
    },
  },
} as const satisfies Record<ConventionName, InitializationConvention>;

export type InitializationConventionName = keyof typeof INITIALIZATION_CONVENTIONS;

/** The convention of the code the published weights were trained with, as the rounding preset's default. */
export const DEFAULT_INITIALIZATION: InitializationConventionName = "keras";
