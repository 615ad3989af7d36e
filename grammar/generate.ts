// Writes the generated language definition in grammar/ (see grammar/describe.ts).
import { writeFilesAtomically } from "../src/cli/command.ts";
import { grammarFiles } from "./describe.ts";

const failed = writeFilesAtomically(grammarFiles());
if (failed.length) {
  console.error(failed.map((d) => d.message).join("\n"));
  process.exit(1);
}
console.log(
  `wrote ${grammarFiles()
    .map((f) => f.path)
    .join(", ")}`,
);
