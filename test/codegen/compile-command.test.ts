import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli as run } from "../helpers/cli.ts";

const work = mkdtempSync(join(tmpdir(), "effnet-compile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("effnet compile", () => {
  it("writes <out>/<network>/<variant>.ts, the same bytes as the checked-in module", async () => {
    const out = join(work, "models");
    const result = await run("compile", "specs/efficientnet.effnet", "--variant", "B0", "--out", out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(`wrote ${join(out, "efficientnet", "b0.ts")}\n`);
    expect(readFileSync(join(out, "efficientnet", "b0.ts"), "utf8")).toBe(
      readFileSync("generated/efficientnet/b0.ts", "utf8"),
    );
    expect((await run("compile", "specs/efficientnet.effnet", "--variant", "B0", "--out", out)).stderr).toMatch(
      /^unchanged /,
    );
  });

  it("--check names stale modules and exits 1, writing nothing", async () => {
    const out = join(work, "check");
    expect((await run("compile", "specs/mobilenetv2.effnet", "--out", out)).code).toBe(0);
    const path = join(out, "mobilenetv2", "v2.ts");
    writeFileSync(path, "// edited by hand\n");
    const stale = await run("compile", "--check", "specs/mobilenetv2.effnet", "--out", out);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`${path}: stale`);
    expect(stale.stderr).toContain(`run \`effnet compile specs/mobilenetv2.effnet --out ${out}\``);
    expect(readFileSync(path, "utf8")).toBe("// edited by hand\n");
  });

  it("a spec with errors writes nothing, not even the other specs' modules", async () => {
    const bad = join(work, "bad.effnet");
    writeFileSync(bad, readFileSync("specs/mobilenetv2.effnet", "utf8").replace("MBConv6, k3x3", "MBConv6, k3x5"));
    const out = join(work, "none");
    const result = await run("compile", "specs/mobilenetv2.effnet", bad, "--out", out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nothing written");
    expect(existsSync(out)).toBe(false);
  });
});
