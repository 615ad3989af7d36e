import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { GroupsThatDoNotDivide } from "../diagnostics/codes.ts";
import type { Span } from "../diagnostics/source.ts";
import { spatial, type LayerBuilder, type Tensor } from "../ir/builder.ts";
import { SPEC_ACTIVATIONS } from "../vocabulary/activations.ts";
import type { Activation } from "../ir/ir.ts";
import { PADDING_RULES, WINDOW_PADDINGS, type PaddedWindow, type PaddingRuleName } from "../vocabulary/conventions.ts";

/**
 * The one table of operators. An operator is what a stage-table row's Operator cell
 * names (`Conv3x3`, `MBConv6, k3x3`, `Conv1x1 & Pooling & FC`). Each entry says how the
 * cell is read, whether depth scaling may repeat it, and how one repeat lowers to
 * primitive layers (src/ir/builder.ts). Costs and tfjs emission follow from those
 * primitives, so adding an operator is one entry here and nothing else.
 */

/**
 * How a block's squeeze-and-excitation is sized and gated, a parameter of the network
 * (`squeeze_excite 0.25 of expanded divisor 8 activation relu gate hardsigmoid`):
 * Keras's and torchvision's EfficientNet take max(1, ⌊input channels × ratio⌋) with the
 * block's activation and a sigmoid gate (KERAS_SE_RULE); torchvision's MobileNetV3
 * (mobilenetv3.py, InvertedResidual) takes _make_divisible(expanded // 4, 8) with ReLU and
 * a hard-sigmoid gate.
 */
export interface SqueezeExciteRule {
  /** Whose channels the ratio takes: the block's input, or the expanded (depthwise) channels. */
  readonly of: "input" | "expanded";
  /** 1: ⌊c × ratio⌋ (at least 1); d > 1: the nearest multiple of d, at least d, never below 90 % (_make_divisible). */
  readonly divisor: number;
  /** The reduce convolution's activation; `block`: the block's own. */
  readonly activation: Activation | "block";
  readonly gate: Activation;
}

export const KERAS_SE_RULE: SqueezeExciteRule = { of: "input", divisor: 1, activation: "block", gate: "sigmoid" };

/** A stage's operator parameters after semantics resolved cell, optional columns and defaults. */
export interface OperatorParams {
  readonly kernel: number;
  readonly expand: number;
  /** Squeeze-and-excitation ratio (of the channels seRule names); 0 = none. */
  readonly seRatio: number;
  readonly seRule: SqueezeExciteRule;
  /** Grouped convolution's groups (ResNeXt's cardinality); 1 = an ordinary convolution. */
  readonly groups: number;
  readonly activation: Activation;
  /**
   * The expanded (depthwise) width as MobileNetV3's Table 1 prints it (`exp size`: 72, 88,
   * 240), in place of a ratio; scaled by the width rule as the stage's channels are
   * (torchvision mobilenetv3.py: adjust_channels(expanded_channels, width_mult)).
   */
  readonly expandedWidth?: number;
  /** A hidden dense layer's units before the classifier (MobileNetV3's 1280); none when absent. */
  readonly hidden?: number;
}

/** The parameters an operator may take from its cell or the stage table's optional columns. */
export type OperatorParamName = "kernel" | "expand" | "expandedWidth" | "seRatio" | "groups" | "activation";

/** What one repeat of a stage gets when it is lowered. */
export interface RepeatContext {
  /** Keras-style name prefix: `stem_`, `block2a_`, or `` for the head. */
  readonly prefix: string;
  readonly outChannels: number;
  /** The stage's stride for its first repeat, 1 for the others. */
  readonly strides: number;
  readonly params: OperatorParams;
  readonly batchNorm: { readonly momentum: number; readonly epsilon: number };
  /** Stochastic-depth rate of this block (Keras: drop_connect_rate * b / blocks). */
  readonly dropConnect: number;
  /** Classifier settings, for the head: logits (`linear`, torchvision) or probabilities (`softmax`, Keras). */
  readonly classes: number;
  readonly dropout: number;
  readonly classifierActivation: Activation;
}

export type OperatorRole = "layer" | "block" | "head";

export interface OperatorDef {
  readonly name: string;
  /** How to write it in a cell, for help messages and the README. */
  readonly syntax: string;
  readonly summary: string;
  /** The whole operator name in a cell (before any `, modifier`), case-insensitive. */
  readonly pattern: RegExp;
  /** Parameters the name itself fixes (`MBConv6` → expand 6, `Conv3x3` → kernel 3). */
  readonly fromName: (match: RegExpExecArray) => Partial<OperatorParams>;
  /** Defaults for what neither the name, a modifier nor a column gives. */
  readonly defaults: Partial<OperatorParams>;
  /** Whether it uses squeeze-and-excitation when the network sets a ratio. */
  readonly usesSqueezeExcite: boolean;
  /**
   * The parameters it takes (src/semantics/stages.ts, PARAM_COLUMNS): a column for any
   * other is EFF2036 unless the row says `-`. The others keep their neutral values.
   */
  readonly params: readonly OperatorParamName[];
  /**
   * `layer`: a plain layer (a Conv in stage 1 is the stem); `block`: numbered like
   * Keras's blocks (`block2a_`); `head`: the classifier, last and not repeatable.
   */
  readonly role: OperatorRole;
  /** Pooling cannot change the channel count: its Channels cell must repeat the previous stage's. */
  readonly keepsChannels?: boolean;
  /**
   * What makes a repeat unbuildable at the channels scaling gave it (the spec cannot know them
   * before: rounding decides them per variant), or undefined when it builds.
   */
  readonly unbuildable?: (
    params: OperatorParams,
    inChannels: number,
    outChannels: number,
  ) => GroupsThatDoNotDivide | undefined;
  /** The canonical cell text, for reports and `fmt`. */
  readonly print: (p: OperatorParams) => string;
  readonly lower: (b: LayerBuilder, x: Tensor, ctx: RepeatContext) => Tensor;
  /**
   * The closed form of `lower`'s parameters and MACs for one repeat: adds them to the
   * tally and returns the output's size, without building layers (src/cost/totals.ts sums
   * it over a scaled stage table; a property test holds it equal to the IR's figures).
   */
  /**
   * The closed form of one repeat (src/cost/totals.ts); absent for an operator whose closed
   * form is not written yet, whose totals then come from the layer IR (exact, slower).
   */
  readonly cost?: (t: Tally, x: Dims, ctx: RepeatCostContext) => Dims;
}

/** A feature map's size, batch dimension left out. */
export interface Dims {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Parameters and multiply-adds, summed as closed forms add to them. */
export interface Tally {
  trainable: number;
  nonTrainable: number;
  macs: number;
}

/** What a repeat's closed form needs: RepeatContext's numbers, and the padding rule of strided windows. */
export interface RepeatCostContext {
  readonly outChannels: number;
  readonly strides: number;
  readonly params: OperatorParams;
  readonly classes: number;
  readonly padding: PaddingRuleName;
}

const channelsOf = (t: Tensor) => t.shape[t.shape.length - 1];

/** conv → BN → activation, the unit every operator is made of. */
function convBnAct(
  b: LayerBuilder,
  x: Tensor,
  names: [string, string, string],
  ctx: RepeatContext,
  filters: number,
  kernel: number,
  strides: number,
  activation: Activation | null,
  groups = 1,
): Tensor {
  let y = b.conv2d(names[0], x, { filters, kernel, strides, groups });
  y = b.batchNorm(names[1], y, ctx.batchNorm);
  return activation ? b.activation(names[2], y, activation) : y;
}

/** torchvision's _make_divisible (models/_utils.py): nearest multiple of d, at least d, not below 90 % of v. */
function makeDivisible(v: number, d: number): number {
  const rounded = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return rounded < 0.9 * v ? rounded + d : rounded;
}

/**
 * Output size of a k×k window, as LayerBuilder pads it (padFor): stride-1 and 1x1 windows are
 * `same`; strided ones are padded by the padding rule's entry for the window and `valid`,
 * except a max pool whose padding is correct_pad (TensorFlow's `same`), which stays `same`.
 */
export function windowOutput(n: number, kernel: number, strides: number, rule: PaddingRuleName, window: PaddedWindow) {
  const padding = PADDING_RULES[rule].windows[window];
  if (strides === 1 || kernel === 1 || (window === "pool" && padding === "correct_pad"))
    return spatial(n, kernel, strides, "same");
  const [before, after] = WINDOW_PADDINGS[padding].pads(n, kernel);
  return spatial(n + before + after, kernel, strides, "valid");
}

/** convBnAct's closed form: a bias-free k×k conv (k·k·C_in·C_out weights, one dot product per output) and its BN. */
function convBnCost(t: Tally, x: Dims, filters: number, kernel: number, strides: number, rule: PaddingRuleName): Dims {
  const height = windowOutput(x.height, kernel, strides, rule, "conv");
  const width = windowOutput(x.width, kernel, strides, rule, "conv");
  const weights = kernel * kernel * x.channels * filters;
  t.trainable += weights + 2 * filters;
  t.nonTrainable += 2 * filters;
  t.macs += height * width * weights;
  return { height, width, channels: filters };
}

/** A depthwise k×k conv (k·k weights per channel) and its BN. */
function depthwiseBnCost(t: Tally, x: Dims, kernel: number, strides: number, rule: PaddingRuleName): Dims {
  const height = windowOutput(x.height, kernel, strides, rule, "depthwise");
  const width = windowOutput(x.width, kernel, strides, rule, "depthwise");
  t.trainable += kernel * kernel * x.channels + 2 * x.channels;
  t.nonTrainable += 2 * x.channels;
  t.macs += height * width * kernel * kernel * x.channels;
  return { height, width, channels: x.channels };
}

/** squeezeExcite's closed form: two 1x1 convs with biases on a 1×1 map. */
function squeezeExciteCost(t: Tally, channels: number, blockInputChannels: number, ratio: number): void {
  if (!(ratio > 0 && ratio <= 1)) return;
  const reduced = Math.max(1, Math.floor(blockInputChannels * ratio));
  t.trainable += 2 * channels * reduced + reduced + channels;
  t.macs += 2 * channels * reduced;
}

/** The dense classifier: C·classes weights and classes biases. */
function denseCost(t: Tally, x: Dims, classes: number): Dims {
  t.trainable += x.channels * classes + classes;
  t.macs += x.channels * classes;
  return { height: 1, width: 1, channels: classes };
}

/**
 * Squeeze-and-excitation by the network's rule (SqueezeExciteRule). Keras's (efficientnet.py,
 * block()): max(1, int(block input channels × ratio)), of the block's input, not the
 * expanded channels; the reduce conv carries the activation, the expand conv the gate.
 */
function squeezeExcite(b: LayerBuilder, x: Tensor, blockInputChannels: number, ctx: RepeatContext): Tensor {
  const ratio = ctx.params.seRatio;
  const rule = ctx.params.seRule;
  if (!(ratio > 0 && ratio <= 1)) return x;
  const filters = channelsOf(x);
  const base = (rule.of === "input" ? blockInputChannels : filters) * ratio;
  const reduced = rule.divisor > 1 ? makeDivisible(base, rule.divisor) : Math.max(1, Math.floor(base));
  let se = b.globalAvgPool(`${ctx.prefix}se_squeeze`, x);
  se = b.reshape(`${ctx.prefix}se_reshape`, se, [1, 1, filters]);
  se = b.conv2d(`${ctx.prefix}se_reduce`, se, {
    filters: reduced,
    kernel: 1,
    useBias: true,
    activation: rule.activation === "block" ? ctx.params.activation : rule.activation,
  });
  se = b.conv2d(`${ctx.prefix}se_expand`, se, { filters, kernel: 1, useBias: true, activation: rule.gate });
  return b.multiply(`${ctx.prefix}se_excite`, x, se);
}

/** Identity shortcut where shapes allow (stride 1, same channels), with stochastic depth. */
function residual(b: LayerBuilder, input: Tensor, y: Tensor, ctx: RepeatContext): Tensor {
  if (ctx.strides !== 1 || channelsOf(input) !== ctx.outChannels) return y;
  if (ctx.dropConnect > 0) y = b.dropout(`${ctx.prefix}drop`, y, ctx.dropConnect, true);
  return b.addTensors(`${ctx.prefix}add`, y, input);
}

/** ResNet's shortcut (torchvision resnet.py, downsample): conv1x1(stride) + BN when the stride or the width changes, else the identity. */
function projection(b: LayerBuilder, x: Tensor, ctx: RepeatContext): Tensor {
  if (ctx.strides === 1 && channelsOf(x) === ctx.outChannels) return x;
  const p = ctx.prefix;
  return convBnAct(b, x, [`${p}0_conv`, `${p}0_bn`, ""], ctx, ctx.outChannels, 1, ctx.strides, null);
}

const kernelText = (k: number) => `k${k}x${k}`;

export const OPERATORS: readonly OperatorDef[] = [
  {
    name: "Conv",
    syntax: "Conv3x3",
    summary: "k×k convolution, batch norm, activation (the stem when it is stage 1)",
    pattern: /^conv(\d+)x(\d+)$/i,
    fromName: (m) => ({ kernel: Number(m[1]) }),
    defaults: {},
    usesSqueezeExcite: false,
    params: ["kernel", "groups", "activation"],
    role: "layer",
    // A grouped convolution splits its input and its output channels alike.
    unbuildable: ({ groups }, inChannels, outChannels) =>
      groups > 1 && (inChannels % groups !== 0 || outChannels % groups !== 0)
        ? { input: inChannels, output: outChannels, groups }
        : undefined,
    print: (p) => `Conv${p.kernel}x${p.kernel}`,
    lower: (b, x, ctx) =>
      convBnAct(
        b,
        x,
        [`${ctx.prefix}conv`, `${ctx.prefix}bn`, `${ctx.prefix}activation`],
        ctx,
        ctx.outChannels,
        ctx.params.kernel,
        ctx.strides,
        ctx.params.activation,
        ctx.params.groups,
      ),
    cost: (t, x, ctx) => convBnCost(t, x, ctx.outChannels, ctx.params.kernel, ctx.strides, ctx.padding),
  },
  {
    name: "MBConv",
    syntax: "MBConv6, k3x3",
    summary:
      "mobile inverted bottleneck (Sandler et al. 2018) with optional squeeze-and-excitation; MBConvN expands N×",
    // `MBConv` alone takes its expanded width from the Expanded column (MobileNetV3's table).
    pattern: /^mbconv(\d*)$/i,
    fromName: (m) => (m[1] ? { expand: Number(m[1]) } : {}),
    defaults: { kernel: 3 },
    usesSqueezeExcite: true,
    params: ["kernel", "expand", "expandedWidth", "seRatio", "activation"],
    role: "block",
    print: (p) =>
      p.expandedWidth !== undefined ? `MBConv, ${kernelText(p.kernel)}` : `MBConv${p.expand}, ${kernelText(p.kernel)}`,
    // Keras applications/efficientnet.py, block(): expand 1x1 (skipped when the ratio is 1),
    // depthwise kxk with the stride, SE, project 1x1 without activation, residual.
    lower: (b, x, ctx) => {
      const p = ctx.prefix;
      const inputChannels = channelsOf(x);
      const expanded = ctx.params.expandedWidth ?? inputChannels * ctx.params.expand;
      let y = x;
      // torchvision mobilenetv3.py: `if cnf.expanded_channels != cnf.input_channels` (no expand conv otherwise).
      if (expanded !== inputChannels)
        y = convBnAct(
          b,
          y,
          [`${p}expand_conv`, `${p}expand_bn`, `${p}expand_activation`],
          ctx,
          expanded,
          1,
          1,
          ctx.params.activation,
        );
      y = b.depthwiseConv2d(`${p}dwconv`, y, { kernel: ctx.params.kernel, strides: ctx.strides });
      y = b.batchNorm(`${p}bn`, y, ctx.batchNorm);
      y = b.activation(`${p}activation`, y, ctx.params.activation);
      y = squeezeExcite(b, y, inputChannels, ctx);
      y = convBnAct(b, y, [`${p}project_conv`, `${p}project_bn`, ""], ctx, ctx.outChannels, 1, 1, null);
      return residual(b, x, y, ctx);
    },
    cost: (t, x, ctx) => {
      let y = ctx.params.expand !== 1 ? convBnCost(t, x, x.channels * ctx.params.expand, 1, 1, ctx.padding) : x;
      y = depthwiseBnCost(t, y, ctx.params.kernel, ctx.strides, ctx.padding);
      squeezeExciteCost(t, y.channels, x.channels, ctx.params.seRatio);
      return convBnCost(t, y, ctx.outChannels, 1, 1, ctx.padding);
    },
  },
  {
    name: "FusedMBConv",
    syntax: "FusedMBConv4, k3x3",
    summary: "EfficientNetV2's fused block: one k×k conv in place of expand 1x1 + depthwise k×k",
    pattern: /^fusedmbconv(\d+)$/i,
    fromName: (m) => ({ expand: Number(m[1]) }),
    defaults: { kernel: 3 },
    usesSqueezeExcite: true,
    params: ["kernel", "expand", "seRatio", "activation"],
    role: "block",
    print: (p) => `FusedMBConv${p.expand}, ${kernelText(p.kernel)}`,
    // Keras applications/efficientnet_v2.py, FusedMBConvBlock: with expansion the kxk
    // conv expands and a 1x1 projects; without, the kxk conv is the projection.
    lower: (b, x, ctx) => {
      const p = ctx.prefix;
      const inputChannels = channelsOf(x);
      const act = ctx.params.activation;
      let y: Tensor;
      if (ctx.params.expand !== 1) {
        y = convBnAct(
          b,
          x,
          [`${p}expand_conv`, `${p}expand_bn`, `${p}expand_activation`],
          ctx,
          inputChannels * ctx.params.expand,
          ctx.params.kernel,
          ctx.strides,
          act,
        );
        y = squeezeExcite(b, y, inputChannels, ctx);
        y = convBnAct(b, y, [`${p}project_conv`, `${p}project_bn`, ""], ctx, ctx.outChannels, 1, 1, null);
      } else {
        y = squeezeExcite(b, x, inputChannels, ctx);
        y = convBnAct(
          b,
          y,
          [`${p}project_conv`, `${p}project_bn`, `${p}project_activation`],
          ctx,
          ctx.outChannels,
          ctx.params.kernel,
          ctx.strides,
          act,
        );
      }
      return residual(b, x, y, ctx);
    },
    cost: (t, x, ctx) => {
      const { expand, kernel, seRatio } = ctx.params;
      if (expand === 1) {
        squeezeExciteCost(t, x.channels, x.channels, seRatio);
        return convBnCost(t, x, ctx.outChannels, kernel, ctx.strides, ctx.padding);
      }
      const y = convBnCost(t, x, x.channels * expand, kernel, ctx.strides, ctx.padding);
      squeezeExciteCost(t, y.channels, x.channels, seRatio);
      return convBnCost(t, y, ctx.outChannels, 1, 1, ctx.padding);
    },
  },
  {
    name: "DSConv",
    syntax: "DSConv, k3x3",
    summary: "MobileNetV1's depthwise-separable convolution: depthwise k×k, BN, act, pointwise 1x1, BN, act",
    pattern: /^dsconv$/i,
    fromName: () => ({}),
    defaults: { kernel: 3, expand: 1 },
    usesSqueezeExcite: false,
    params: ["kernel", "activation"],
    role: "block",
    print: (p) => `DSConv, ${kernelText(p.kernel)}`,
    lower: (b, x, ctx) => {
      const p = ctx.prefix;
      let y = b.depthwiseConv2d(`${p}dwconv`, x, { kernel: ctx.params.kernel, strides: ctx.strides });
      y = b.batchNorm(`${p}dw_bn`, y, ctx.batchNorm);
      y = b.activation(`${p}dw_activation`, y, ctx.params.activation);
      return convBnAct(
        b,
        y,
        [`${p}pw_conv`, `${p}pw_bn`, `${p}pw_activation`],
        ctx,
        ctx.outChannels,
        1,
        1,
        ctx.params.activation,
      );
    },
    cost: (t, x, ctx) =>
      convBnCost(
        t,
        depthwiseBnCost(t, x, ctx.params.kernel, ctx.strides, ctx.padding),
        ctx.outChannels,
        1,
        1,
        ctx.padding,
      ),
  },
  {
    name: "BasicBlock",
    syntax: "BasicBlock, k3x3",
    summary:
      "ResNet-18/34's basic block (He et al. 2016): two k×k conv + BN (the stride on the first), ReLU after the add; projection shortcut when the shape changes",
    pattern: /^basicblock$/i,
    fromName: () => ({}),
    defaults: { kernel: 3 },
    usesSqueezeExcite: false,
    params: ["kernel", "activation"],
    role: "block",
    print: (p) => `BasicBlock, ${kernelText(p.kernel)}`,
    // torchvision models/resnet.py, BasicBlock: conv3x3(stride) → BN → ReLU → conv3x3 → BN,
    // downsample = conv1x1(stride) + BN when the stride or the width changes; ReLU after the
    // add. Names as Bottleneck's (Keras applications/resnet.py).
    lower: (b, x, ctx) => {
      const p = ctx.prefix;
      const act = ctx.params.activation;
      const k = ctx.params.kernel;
      let y = convBnAct(
        b,
        x,
        [`${p}1_conv`, `${p}1_bn`, `${p}1_activation`],
        ctx,
        ctx.outChannels,
        k,
        ctx.strides,
        act,
      );
      y = convBnAct(b, y, [`${p}2_conv`, `${p}2_bn`, ""], ctx, ctx.outChannels, k, 1, null);
      return b.activation(`${p}out`, b.addTensors(`${p}add`, projection(b, x, ctx), y), act);
    },
  },
  {
    name: "Bottleneck",
    syntax: "Bottleneck, k3x3",
    summary:
      "ResNet's bottleneck (He et al. 2016, v1.5 as torchvision): 1x1 reduce to channels / Expand (default 4), k×k with the stride (grouped by the Groups column: ResNeXt, RegNet), squeeze-and-excitation when the network sets a ratio (RegNetY), 1x1 expand; projection shortcut when the shape changes",
    pattern: /^bottleneck$/i,
    fromName: () => ({}),
    // `expand` is the bottleneck's expansion: the inner width is the stage's channels / 4.
    defaults: { kernel: 3, expand: 4 },
    usesSqueezeExcite: true,
    params: ["kernel", "expand", "groups", "seRatio", "activation"],
    role: "block",
    print: (p) => `Bottleneck, ${kernelText(p.kernel)}`,
    // torchvision models/resnet.py, Bottleneck: the stride sits on the 3x3 conv (ResNet v1.5);
    // downsample = conv1x1(stride) + BN when the stride or the width changes; ReLU after the add.
    // Names follow Keras applications/resnet.py (`_1_conv`, `_0_conv` for the shortcut, `_out`).
    lower: (b, x, ctx) => {
      const p = ctx.prefix;
      const act = ctx.params.activation;
      // torchvision: width = int(planes · base_width / 64) · groups, a multiple of the groups.
      const groups = ctx.params.groups;
      const inner = Math.max(1, Math.floor(ctx.outChannels / ctx.params.expand / groups)) * groups;
      let y = convBnAct(b, x, [`${p}1_conv`, `${p}1_bn`, `${p}1_activation`], ctx, inner, 1, 1, act);
      y = convBnAct(
        b,
        y,
        [`${p}2_conv`, `${p}2_bn`, `${p}2_activation`],
        ctx,
        inner,
        ctx.params.kernel,
        ctx.strides,
        act,
        groups,
      );
      // torchvision models/regnet.py, BottleneckTransform: squeeze-and-excitation between the
      // k×k and the last 1x1 conv, squeezing to int(round(ratio · the block's input width)), which is
      // the floor the rule takes: RegNet widths are multiples of 8, so ratio 0.25 divides them.
      y = squeezeExcite(b, y, channelsOf(x), ctx);
      y = convBnAct(b, y, [`${p}3_conv`, `${p}3_bn`, ""], ctx, ctx.outChannels, 1, 1, null);
      return b.activation(`${p}out`, b.addTensors(`${p}add`, projection(b, x, ctx), y), act);
    },
    cost: (t, x, ctx) => {
      const inner = Math.max(1, Math.floor(ctx.outChannels / ctx.params.expand));
      let y = convBnCost(t, x, inner, 1, 1, ctx.padding);
      y = convBnCost(t, y, inner, ctx.params.kernel, ctx.strides, ctx.padding);
      squeezeExciteCost(t, inner, x.channels, ctx.params.seRatio);
      y = convBnCost(t, y, ctx.outChannels, 1, 1, ctx.padding);
      if (ctx.strides !== 1 || x.channels !== ctx.outChannels)
        convBnCost(t, x, ctx.outChannels, 1, ctx.strides, ctx.padding);
      return y;
    },
  },
  {
    name: "MaxPool",
    syntax: "MaxPool3x3",
    summary: "k×k max pooling with the stage's stride (ResNet's stem); channels pass through",
    pattern: /^maxpool(\d+)x(\d+)$/i,
    fromName: (m) => ({ kernel: Number(m[1]) }),
    defaults: {},
    usesSqueezeExcite: false,
    params: ["kernel"],
    role: "layer",
    keepsChannels: true,
    print: (p) => `MaxPool${p.kernel}x${p.kernel}`,
    lower: (b, x, ctx) => b.maxPool(`${ctx.prefix}pool`, x, { pool: ctx.params.kernel, strides: ctx.strides }),
    cost: (_t, x, ctx) => ({
      height: windowOutput(x.height, ctx.params.kernel, ctx.strides, ctx.padding, "pool"),
      width: windowOutput(x.width, ctx.params.kernel, ctx.strides, ctx.padding, "pool"),
      channels: x.channels,
    }),
  },
  {
    name: "Classifier",
    syntax: "Pooling & FC",
    summary:
      "classifier without a head convolution (ResNet, MobileNetV1): global average pooling, dropout, dense (softmax or logits, by the convention)",
    pattern: /^pooling & fc$/i,
    fromName: () => ({}),
    defaults: { kernel: 1 },
    usesSqueezeExcite: false,
    params: [],
    role: "head",
    keepsChannels: true,
    print: () => "Pooling & FC",
    lower: (b, x, ctx) => {
      let y = b.globalAvgPool("avg_pool", x);
      if (ctx.dropout > 0) y = b.dropout("top_dropout", y, ctx.dropout);
      return b.dense("predictions", y, { units: ctx.classes, activation: ctx.classifierActivation });
    },
    cost: (t, x, ctx) => denseCost(t, x, ctx.classes),
  },
  {
    name: "Head",
    syntax: "Conv1x1 & Pooling & FC",
    summary:
      "classifier head: 1x1 conv, BN, act, global average pooling, [a hidden dense layer with the act: `& FC 1280 & FC`], dropout, dense (softmax or logits, by the convention)",
    // `Conv1x1 & Pooling & FC 1280 & FC`: MobileNetV3's head, a hidden dense layer with the activation.
    pattern: /^conv(\d+)x(\d+) & pooling & fc(?: (\d+) & fc)?$/i,
    fromName: (m) => ({ kernel: Number(m[1]), ...(m[3] ? { hidden: Number(m[3]) } : {}) }),
    defaults: {},
    usesSqueezeExcite: false,
    params: ["kernel", "activation"],
    role: "head",
    print: (p) => `Conv${p.kernel}x${p.kernel} & Pooling & FC${p.hidden ? ` ${p.hidden} & FC` : ""}`,
    // Keras efficientnet.py, top: top_conv, top_bn, top_activation, avg_pool,
    // top_dropout (when the rate is positive), predictions.
    lower: (b, x, ctx) => {
      let y = convBnAct(
        b,
        x,
        ["top_conv", "top_bn", "top_activation"],
        ctx,
        ctx.outChannels,
        ctx.params.kernel,
        ctx.strides,
        ctx.params.activation,
      );
      y = b.globalAvgPool("avg_pool", y);
      // torchvision mobilenetv3.py classifier: Linear(C, 1280), Hardswish, Dropout, Linear(1280, classes).
      if (ctx.params.hidden)
        y = b.dense("top_dense", y, { units: ctx.params.hidden, activation: ctx.params.activation });
      if (ctx.dropout > 0) y = b.dropout("top_dropout", y, ctx.dropout);
      return b.dense("predictions", y, { units: ctx.classes, activation: ctx.classifierActivation });
    },
    cost: (t, x, ctx) =>
      denseCost(t, convBnCost(t, x, ctx.outChannels, ctx.params.kernel, ctx.strides, ctx.padding), ctx.classes),
  },
];

/**
 * Modifiers after the operator name, comma-separated: `MBConv6, k5x5`. One table, shared
 * by all operators.
 */
export interface ModifierDef {
  readonly pattern: RegExp;
  readonly syntax: string;
  /** The parameters the modifier sets, or the diagnostic refusing it (at `span`). */
  readonly apply: (m: RegExpExecArray, span: Span) => Partial<OperatorParams> | Diagnostic;
}

export const MODIFIERS: readonly ModifierDef[] = [
  {
    pattern: /^k(\d+)x(\d+)$/i,
    syntax: "k3x3 (square kernel size)",
    apply: (m, span) =>
      m[1] === m[2] ? { kernel: Number(m[1]) } : diagnostic("EFF2050", { found: m[0], size: Number(m[1]) }, span),
  },
];

/** Activations a spec may name (the table: src/vocabulary/activations.ts). */
export const ACTIVATIONS: readonly Activation[] = SPEC_ACTIVATIONS;

export function findOperator(name: string): { def: OperatorDef; match: RegExpExecArray } | undefined {
  for (const def of OPERATORS) {
    const match = def.pattern.exec(name);
    if (match) return { def, match };
  }
  return undefined;
}
