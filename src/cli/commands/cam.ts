import { basename, extname, join } from "node:path";
import { camOverlayPng, classActivationMaps } from "../../runtime/cam.ts";
import { CHANNELS, readImageFile } from "../../runtime/data.ts";
import { type CommandDef, EXIT, UsageError, writeOutputs } from "../command.ts";
import { freshShapes, openClassifier } from "./predict.ts";
import { BACKEND_OPTION, backendOption } from "../model-command.ts";

/** Not the seed training or `predict --synthetic` uses, so the maps are of unseen images. */
const SYNTHETIC_CAM_SEED = 2_000_003;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export const camCommand: CommandDef = {
  name: "cam",
  summary: "class activation maps: where in each image a saved model sees its class (Figure 7)",
  usage: "effnet cam MODEL_DIR (IMAGE... | --synthetic N) [--class C] [--out DIR]",
  details:
    "For a model whose classifier is global average pooling and one dense layer, the class activation map (Zhou et al. 2016) of class C is the last feature map weighted by the classifier's weights for C. Writes each image with its map overlaid (blue cold, red hot) as a PNG to --out (default cams/), and index.html showing them all with the class and its probability. --class C (an index) maps that class for every image; by default each image's predicted class.",
  positionals: { min: 1, max: Infinity },
  options: {
    synthetic: {
      type: "string",
      value: "N",
      description: "map N freshly drawn shapes images (models trained with --synthetic)",
    },
    class: {
      type: "string",
      short: "c",
      value: "C",
      description: "map this class index (default: the predicted class)",
    },
    out: { type: "string", short: "o", value: "DIR", description: "output folder (default cams)" },
    ...BACKEND_OPTION,
  },
  examples: ["effnet cam models/b0-shapes --synthetic 8 --out cams", "effnet cam models/my-model photo.jpg --class 3"],
  run: async (inv) => {
    const [dir, ...imagePaths] = inv.positionals;
    const synthetic = inv.string("synthetic") === undefined ? undefined : inv.integer("synthetic", 1);
    if ((synthetic === undefined) === (imagePaths.length === 0))
      throw new UsageError("give IMAGE files or --synthetic N (not both)");
    const classIndex = inv.string("class") === undefined ? undefined : inv.integer("class", 0, 0);
    const out = inv.string("out") ?? "cams";
    await backendOption(inv).use();
    // The same checks as predict (square RGB input, at most MAX_IMAGE_PIXELS: EFF5029) and the same class names.
    const { model, size, classNames: names } = await openClassifier(dir);
    try {
      let inputs: { label: string; pixels: Float32Array }[];
      if (synthetic !== undefined) {
        const data = freshShapes(dir, names, synthetic, size, SYNTHETIC_CAM_SEED);
        const n = size * size * CHANNELS;
        inputs = Array.from({ length: data.count }, (_, i) => ({
          label: `shapes-${i + 1}-${data.classNames[data.labels[i]]}`,
          pixels: data.images.subarray(i * n, (i + 1) * n),
        }));
      } else inputs = imagePaths.map((p) => ({ label: basename(p, extname(p)), pixels: readImageFile(p, size) }));
      const maps = classActivationMaps(
        model,
        inputs.map((i) => i.pixels),
        size,
        classIndex,
      );
      const files = inputs.map((input, i) => ({
        path: join(out, `${String(i + 1).padStart(3, "0")}-${input.label.replace(/[^A-Za-z0-9_.-]/g, "_")}.png`),
        content: camOverlayPng(input.pixels, maps[i], size),
      }));
      const figures = files.map((f, i) => {
        const c = maps[i].classIndex;
        return `<figure><img src="${escapeHtml(basename(f.path))}" width="${Math.max(size, 160)}"><figcaption>${escapeHtml(inputs[i].label)}: ${escapeHtml(names[c])} ${(100 * maps[i].probabilities[c]).toFixed(1)}% (map ${maps[i].height}×${maps[i].width})</figcaption></figure>`;
      });
      const html = `<!doctype html>\n<html><head><meta charset="utf-8"><title>Class activation maps: ${escapeHtml(dir)}</title><style>body{font-family:sans-serif}figure{display:inline-block;margin:8px}img{image-rendering:pixelated}</style></head><body><h1>Class activation maps of ${escapeHtml(dir)}</h1><p>Zhou et al. 2016: the last feature map weighted by the classifier's weights of the class shown; red is where the evidence lies.</p>\n${figures.join("\n")}\n</body></html>\n`;
      if (!writeOutputs([...files, { path: join(out, "index.html"), content: html }], inv.io)) return EXIT.errors;
      inv.io.out(`wrote ${files.length} class activation maps and index.html to ${out}\n`);
    } finally {
      model.dispose();
    }
    return EXIT.ok;
  },
};
