import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import {
  CHANNELS,
  MAX_IMAGE_PIXELS,
  modelInput,
  readImageFile,
  SHAPE_CLASSES,
  shapesDataset,
} from "../../runtime/data.ts";
import { probabilitiesOf } from "../../runtime/evaluate.ts";
import { codedError, RuntimeUserError } from "../../runtime/errors.ts";
import { loadModel, MODEL_JSON, type TrainedModelInfo } from "../../runtime/io.ts";
import { type CommandDef, EXIT, JSON_OPTION, UsageError } from "../command.ts";
import { BACKEND_OPTION, backendOption } from "../model-command.ts";

/** A different seed from training's default, so the demo predicts on images the model never saw. */
const SYNTHETIC_PREDICT_SEED = 1_000_003;

/** A saved classifier, checked to take square RGB images, with its class names (from effnet's metadata, else `class N`). */
export async function openClassifier(dir: string): Promise<{
  model: tf.LayersModel;
  info?: TrainedModelInfo;
  size: number;
  classNames: readonly string[];
}> {
  const { model, info } = await loadModel(dir);
  const [, height, width, channels] = model.inputs[0].shape as number[];
  if (height !== width || channels !== CHANNELS) {
    model.dispose();
    throw new RuntimeUserError(
      `${dir} holds a model whose input is ${height}×${width}×${channels}; effnet reads square RGB inputs`,
    );
  }
  if (height * width > MAX_IMAGE_PIXELS) {
    model.dispose();
    throw codedError("EFF5029", { path: join(dir, MODEL_JSON), height, width, limit: `${MAX_IMAGE_PIXELS / 1e6} MP` });
  }
  const classes = (model.outputs[0].shape as number[]).at(-1)!;
  const classNames =
    info?.classNames?.length === classes ? info.classNames : Array.from({ length: classes }, (_, i) => `class ${i}`);
  return { model, ...(info ? { info } : {}), size: height, classNames };
}

/** N freshly drawn shapes images (a seed training does not use), for a model trained on the shapes data set. */
export function freshShapes(
  dir: string,
  classNames: readonly string[],
  count: number,
  size: number,
  seed = SYNTHETIC_PREDICT_SEED,
) {
  if (classNames.some((name, i) => name !== SHAPE_CLASSES[i]))
    throw new RuntimeUserError(
      `${dir} was not trained on the shapes data set (its classes are ${classNames.slice(0, 5).join(", ")}${classNames.length > 5 ? `, … ${classNames.length} in all` : ""}); give image files instead`,
    );
  return shapesDataset({ count, resolution: size, classes: classNames.length, seed });
}

function topK(probabilities: Float32Array, k: number): { index: number; probability: number }[] {
  return Array.from(probabilities, (probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k);
}

export const predictCommand: CommandDef = {
  name: "predict",
  summary: "classify images with a model saved by `effnet train`",
  usage: "effnet predict MODEL_DIR (IMAGE... | --synthetic N) [--top K] [--json]",
  details:
    "Loads MODEL_DIR/model.json and weights.bin (no tfjs-node needed), resizes each PNG or JPEG to the model's input size and prints its most likely classes. --synthetic N instead draws N new images of the built-in shapes data set (a seed training does not use) and reports accuracy, for models trained with `effnet train --synthetic`.",
  positionals: { min: 1, max: Infinity },
  options: {
    synthetic: { type: "string", value: "N", description: "predict N freshly drawn shapes images and report accuracy" },
    top: { type: "string", short: "k", value: "K", description: "classes to show per image (default 3)" },
    ...JSON_OPTION,
    ...BACKEND_OPTION,
  },
  examples: [
    "effnet predict models/b0-shapes --synthetic 12",
    "effnet predict models/my-model photo1.jpg photo2.png --top 5",
  ],
  run: async (inv) => {
    const [dir, ...imagePaths] = inv.positionals;
    const syntheticCount = inv.string("synthetic") === undefined ? undefined : inv.integer("synthetic", 1);
    if (syntheticCount === undefined && imagePaths.length === 0)
      throw new UsageError(
        `nothing to classify: give PNG or JPEG files after ${dir} (effnet predict ${dir} photo.jpg), or --synthetic N to draw N images of the shapes data set`,
      );
    if (syntheticCount !== undefined && imagePaths.length > 0)
      throw new UsageError("give IMAGE files or --synthetic N, not both");
    const k = inv.integer("top", 3);
    await backendOption(inv).use();

    const { model, info, size: height, classNames } = await openClassifier(dir);
    const width = height;
    const classes = classNames.length;
    try {
      let inputs: { label: string; pixels: Float32Array; truth?: string }[];
      if (syntheticCount !== undefined) {
        const data = freshShapes(dir, classNames, syntheticCount, height);
        const size = height * width * CHANNELS;
        inputs = Array.from({ length: data.count }, (_, i) => ({
          label: `shapes #${i + 1}`,
          pixels: data.images.subarray(i * size, (i + 1) * size),
          truth: data.classNames[data.labels[i]],
        }));
      } else {
        inputs = imagePaths.map((path) => ({ label: path, pixels: readImageFile(path, height) }));
      }

      const results = inputs.map((input) => {
        const probabilities = tf.tidy(
          () =>
            probabilitiesOf(
              model,
              model.predict(modelInput(input.pixels, [1, height, width, CHANNELS])) as tf.Tensor2D,
            ).dataSync() as Float32Array,
        );
        const top = topK(probabilities, Math.min(k, classes)).map((t) => ({
          class: classNames[t.index],
          probability: t.probability,
        }));
        return { image: input.label, ...(input.truth ? { truth: input.truth } : {}), top };
      });
      const labelled = results.filter((r) => r.truth !== undefined);
      const accuracy = labelled.length
        ? labelled.filter((r) => r.top[0].class === r.truth).length / labelled.length
        : undefined;

      if (inv.options.json) {
        inv.io.out(
          JSON.stringify(
            {
              model: dir,
              ...(info ? { network: info.network, variant: info.variant } : {}),
              results,
              ...(accuracy === undefined ? {} : { accuracy }),
            },
            null,
            2,
          ) + "\n",
        );
      } else {
        const labelWidth = Math.max(...results.map((r) => r.image.length));
        for (const r of results) {
          const guesses = r.top.map((t) => `${t.class} ${(t.probability * 100).toFixed(1)}%`).join(", ");
          inv.io.out(
            `${r.image.padEnd(labelWidth)}  ${guesses}${r.truth ? `  (truth: ${r.truth}${r.top[0].class === r.truth ? "" : ", wrong"})` : ""}\n`,
          );
        }
        if (accuracy !== undefined)
          inv.io.out(`accuracy ${(accuracy * 100).toFixed(1)}% on ${labelled.length} images\n`);
      }
    } finally {
      model.dispose();
    }
    return EXIT.ok;
  },
};
