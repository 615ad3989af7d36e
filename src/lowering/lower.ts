import type { ScaledNetwork } from "../scaling/scale.ts";
import { PREPROCESSING, type Preprocessing } from "../vocabulary/conventions.ts";
import { LayerBuilder, type Tensor } from "../ir/builder.ts";
import type { NetworkIR } from "../ir/ir.ts";

/** Keras's block letters: a, b, …, z, then aa, ab, … for very deep stages. */
export function blockLetters(j: number): string {
  let s = "";
  let n = j;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

/**
 * Scaled stage table to layer IR. Naming follows Keras applications/efficientnet.py: a
 * plain Conv in stage 1 is the stem (`stem_conv`); the other stages are numbered blocks
 * (`block1a_…` is the first repeat of the first block stage); the head names its own
 * layers (`top_conv`, `avg_pool`, `predictions`). Stochastic depth rises linearly over
 * the block index: drop_connect_rate × b / blocks (Keras, EfficientNet()).
 */
export function lower(network: ScaledNetwork): NetworkIR {
  const { spec, variant } = network;
  const b = new LayerBuilder(spec.padding);
  let x: Tensor = b.input("input", [network.input.height, network.input.width, network.input.channels]);
  // Keras efficientnet.py: x = Rescaling(1/255)(img_input); x = Normalization()(x). Stage 0, with the input.
  const pre: Preprocessing = PREPROCESSING[spec.preprocessing];
  if (pre.rescale !== undefined) x = b.rescaling("rescaling", x, pre.rescale);
  if (pre.normalization) {
    // ImageNet's statistics are RGB's; other inputs start from Keras's unadapted Normalization (mean 0, variance 1).
    const c = network.input.channels;
    const rgb = pre.normalization.mean.length === c;
    x = b.normalization("normalization", x, {
      mean: rgb ? pre.normalization.mean : Array(c).fill(0),
      std: rgb ? pre.normalization.std : Array(c).fill(1),
      stored: pre.normalization.stored,
    });
  }
  // The stem: the plain layers before the first block (ResNet's conv and max pool; EfficientNet's conv).
  const firstBlock = network.stages.findIndex((s) => s.stage.operator.role !== "layer");
  const isStem = (i: number) => network.stages[i].stage.operator.role === "layer" && (firstBlock < 0 || i < firstBlock);
  const totalBlocks = network.stages.reduce(
    (n, s, i) => (s.stage.operator.role === "head" || isStem(i) ? n : n + s.layers.value),
    0,
  );
  let blockNumber = 0;
  let blockIndex = 0;
  network.stages.forEach((scaled, i) => {
    const { stage } = scaled;
    b.stage = stage.index;
    const numbered = stage.operator.role !== "head" && !isStem(i);
    if (numbered) blockNumber++;
    for (let j = 0; j < scaled.layers.value; j++) {
      b.block = j;
      const stemPrefix = `stem${i === 0 ? "" : stage.index}${scaled.layers.value === 1 ? "" : blockLetters(j)}_`;
      const prefix =
        stage.operator.role === "head" ? "" : isStem(i) ? stemPrefix : `block${blockNumber}${blockLetters(j)}_`;
      x = stage.operator.lower(b, x, {
        prefix,
        outChannels: scaled.channels.value,
        strides: j === 0 ? stage.stride : 1,
        params: {
          ...stage.params,
          ...(scaled.expanded ? { expandedWidth: scaled.expanded.value } : {}),
          ...(scaled.hidden ? { hidden: scaled.hidden.value } : {}),
        },
        batchNorm: spec.batchNorm,
        dropConnect: numbered ? (spec.dropConnect * blockIndex) / totalBlocks : 0,
        classes: spec.classes,
        dropout: variant.dropout,
        classifierActivation: spec.classifierActivation,
      });
      if (numbered) blockIndex++;
    }
  });
  return {
    network: spec.name,
    variant: variant.name,
    inputShape: [network.input.height, network.input.width, network.input.channels],
    classes: spec.classes,
    convention: {
      name: spec.convention,
      padding: spec.padding,
      preprocessing: spec.preprocessing,
      classifierActivation: spec.classifierActivation,
    },
    layers: b.layers,
    output: x.name,
  };
}
