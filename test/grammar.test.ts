import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grammarFiles } from "../grammar/describe.ts";

describe("grammar/ (generated from src/syntax and the vocabulary tables)", () => {
  it.each(grammarFiles().map((f) => [f.path, f.content] as const))("%s is fresh", (path, content) => {
    let onDisk = "";
    try {
      onDisk = readFileSync(path, "utf8");
    } catch {
      // reported below
    }
    expect(onDisk === content, `${path} is stale: run \`npm run generate:grammar\` and commit the result`).toBe(true);
  });
});
