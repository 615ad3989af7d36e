import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../src/compile.ts";
import { runCli } from "./helpers/cli.ts";

/** `solve --write` and `search --write`: the answer written into the spec through the printer, comments kept. */
function scratchSpec(): string {
  const path = join(mkdtempSync(join(tmpdir(), "effnet-edit-")), "efficientnet.effnet");
  copyFileSync("specs/efficientnet.effnet", path);
  return path;
}
const comments = (text: string) => text.split("\n").filter((l) => l.trim().startsWith("#"));

describe("writing answers into the spec", () => {
  it("solve --write appends the variant line; the same name again is EFF0011 and changes nothing", async () => {
    const path = scratchSpec();
    const before = readFileSync(path, "utf8");
    const r = await runCli("solve", path, "--budget", "macs=200M", "--name", "Half", "--write");
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(path, "utf8");
    expect(after).toContain("  variant Half phi -1.58\n");
    expect(comments(after)).toEqual(comments(before));
    const compiled = compile({ path, text: after });
    expect(compiled.variants.find((v) => v.variant.name === "Half")?.variant.phi).toBe(-1.58);

    const again = await runCli("solve", path, "--budget", "macs=300M", "--name", "Half", "--write");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error\[EFF0011\]: cannot write variant Half .*EFF2040.*the file was not changed/);
    expect(readFileSync(path, "utf8")).toBe(after);
  });

  it("search --write sets the best candidate's coefficients in the scaling block, rules kept", async () => {
    const path = scratchSpec();
    const before = readFileSync(path, "utf8");
    const r = await runCli("search", path, "--write");
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(path, "utf8");
    const best = /^1\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(r.stdout)!;
    expect(after).toContain(`depth alpha ${best[1]} round ceil fixed stages 1, 9`);
    expect(after).toContain(`width beta ${best[2]} round multiple 8 keep 0.9`);
    expect(after).toContain(`resolution gamma ${best[3]} round multiple 8`);
    expect(comments(after)).toEqual(comments(before));
    // Only the three coefficient lines changed.
    const changed = after.split("\n").filter((l, i) => l !== before.split("\n")[i]);
    expect(changed).toHaveLength(3);
  });
});
