// Writes each equivalence case's seeded torchvision weights and the seeded input to DIR,
// with manifest.json for torchvision_logits.py. Run (then the Python script) when the
// cases, the seeds or the weight generator change:
//   node --import tsx scripts/equivalence/write-weights.ts /tmp/effnet-equivalence
//   /usr/bin/python3 scripts/equivalence/torchvision_logits.py /tmp/effnet-equivalence
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededPixels } from "../../src/weights/transfer.ts";
import { writeSafetensors } from "../../src/weights/safetensors.ts";
import { BATCH, CASES, caseWeights, FIXTURE, INPUT_SEED } from "./cases.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: write-weights.ts DIR");
mkdirSync(dir, { recursive: true });
const manifest = {
  fixture: FIXTURE,
  batch: BATCH,
  inputSeed: INPUT_SEED,
  cases: CASES.map((c) => {
    const { bytes, sha256 } = caseWeights(c);
    writeFileSync(join(dir, `${c.name}.safetensors`), bytes);
    const pixels = seededPixels(INPUT_SEED, BATCH, c.resolution);
    writeFileSync(
      join(dir, `${c.name}.input.safetensors`),
      writeSafetensors([
        { name: "pixels", dtype: "F32", shape: [BATCH, c.resolution, c.resolution, 3], values: pixels },
      ]),
    );
    console.log(`${c.name}: ${bytes.byteLength} bytes, sha256 ${sha256}`);
    return {
      ...c,
      convention: c.convention ?? "torchvision",
      weights: `${c.name}.safetensors`,
      input: `${c.name}.input.safetensors`,
      sha256,
    };
  }),
};
writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
