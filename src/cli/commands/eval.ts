import { loadImageFolder, type ImageDataset } from "../../runtime/data.ts";
import { RuntimeUserError } from "../../runtime/errors.ts";
import { evaluateModel, type Evaluation } from "../../runtime/evaluate.ts";
import { type CommandDef, EXIT, JSON_OPTION, UsageError } from "../command.ts";
import { freshShapes, openClassifier } from "./predict.ts";
import { BACKEND_OPTION, backendOption } from "../model-command.ts";

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The evaluation as a terminal reads it: accuracy and loss, per class, then the confusion matrix. */
function renderEvaluation(e: Evaluation, classNames: readonly string[]): string {
  const nameWidth = Math.max(5, ...classNames.map((n) => n.length));
  const lines = [`accuracy ${percent(e.accuracy)} on ${e.images} images, loss ${e.loss.toFixed(4)}`, ""];
  lines.push(`${"class".padEnd(nameWidth)}  images  accuracy`);
  for (const c of e.perClass)
    lines.push(`${c.class.padEnd(nameWidth)}  ${String(c.images).padStart(6)}  ${percent(c.accuracy).padStart(8)}`);
  lines.push("", "confusion matrix (rows: true class, columns: predicted)");
  const cell = Math.max(...classNames.map((n) => n.length), ...e.confusion.flat().map((n) => String(n).length));
  lines.push(`${"".padEnd(nameWidth)}  ${classNames.map((n) => n.padStart(cell)).join("  ")}`);
  e.confusion.forEach((row, i) =>
    lines.push(`${classNames[i].padEnd(nameWidth)}  ${row.map((n) => String(n).padStart(cell)).join("  ")}`),
  );
  return lines.join("\n") + "\n";
}

export const evalCommand: CommandDef = {
  name: "eval",
  summary: "measure a saved model on labelled images: accuracy, per-class accuracy, confusion matrix",
  usage: "effnet eval MODEL_DIR (--data DIR | --synthetic N) [--json]",
  details:
    "Loads MODEL_DIR (saved by `effnet train`) and classifies every image of --data DIR (one sub-folder per class, named as the model's classes) or of N freshly drawn shapes images (--synthetic N, a seed training does not use), in inference mode. Prints the accuracy, the mean cross-entropy loss, the accuracy of each class and the confusion matrix; --json prints them as one JSON document.",
  positionals: { min: 1, max: 1 },
  options: {
    data: { type: "string", short: "d", value: "DIR", description: "labelled image folder: one sub-folder per class" },
    synthetic: { type: "string", value: "N", description: "evaluate on N freshly drawn shapes images" },
    ...JSON_OPTION,
    ...BACKEND_OPTION,
  },
  examples: ["effnet eval models/b0-shapes --synthetic 300", "effnet eval models/my-model --data photos/test --json"],
  run: async (inv) => {
    const [dir] = inv.positionals;
    const dataDir = inv.string("data");
    const syntheticCount = inv.string("synthetic") === undefined ? undefined : inv.integer("synthetic", 1);
    if ((syntheticCount === undefined) === (dataDir === undefined))
      throw new UsageError("give either --data DIR or --synthetic N");
    await backendOption(inv).use();
    const { model, info, size, classNames } = await openClassifier(dir);
    try {
      let dataset: ImageDataset;
      if (syntheticCount !== undefined) dataset = freshShapes(dir, classNames, syntheticCount, size);
      else {
        dataset = loadImageFolder(dataDir!, { resolution: size });
        if (dataset.classNames.join("\n") !== classNames.join("\n"))
          throw new RuntimeUserError(
            `${dataDir}'s class folders (${dataset.classNames.join(", ")}) are not the classes ${dir} predicts (${classNames.join(", ")})`,
          );
      }
      const evaluation = evaluateModel(model, dataset);
      if (inv.options.json) {
        const doc = {
          model: dir,
          ...(info ? { network: info.network, variant: info.variant } : {}),
          data: dataDir ?? "synthetic",
          classNames,
          ...evaluation,
        };
        inv.io.out(JSON.stringify(doc, null, 2) + "\n");
      } else inv.io.out(renderEvaluation(evaluation, classNames));
    } finally {
      model.dispose();
    }
    return EXIT.ok;
  },
};
