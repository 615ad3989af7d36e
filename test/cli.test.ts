import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFilesAtomically } from "../src/cli/command.ts";
import { runCli as run } from "./helpers/cli.ts";

describe("effnet CLI", () => {
  it("--help lists the commands; no arguments is a usage error", async () => {
    const help = await run("--help");
    expect(help.code).toBe(0);
    for (const c of ["check", "audit", "fmt"]) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect((await run()).code).toBe(2);
    const auditHelp = await run("audit", "--help");
    expect(auditHelp.stdout).toContain("Usage: effnet audit FILE");
    expect(auditHelp.stdout).toContain("--json");
  });

  it("usage errors exit 2 with a hint", async () => {
    const unknown = await run("audti", "specs/efficientnet.effnet");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("did you mean `audit`?");
    const badFlag = await run("audit", "specs/efficientnet.effnet", "--jsn");
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Usage: effnet audit");
    expect((await run("audit")).code).toBe(2);
  });

  it("check: 0 on the shipped specs, 1 with rendered diagnostics on a bad one", async () => {
    expect((await run("check", "specs/efficientnet.effnet", "specs/mobilenetv2.effnet")).code).toBe(0);
    const bad = await run("check", "test/errors/EFF2021-unknown-operator.effnet");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[EFF2021]: unknown operator `MBConf6`");
    expect(bad.stderr).toContain("--> test/errors/EFF2021-unknown-operator.effnet:12:15");
  });

  it("audit --json prints one JSON document with the promised fields", async () => {
    const { code, stdout } = await run("audit", "specs/efficientnet.effnet", "--json");
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.network.name).toBe("EfficientNet");
    const b0 = doc.variants.find((v: { name: string }) => v.name === "B0");
    for (const key of [
      "name",
      "width",
      "depth",
      "resolution",
      "dropout",
      "params",
      "macs",
      "flops",
      "stages",
      "layers",
    ])
      expect(b0).toHaveProperty(key);
    expect(Object.keys(b0.params).sort()).toEqual(["nonTrainable", "total", "trainable"]);
    expect(b0.stages).toHaveLength(9);
  });

  it("audit --variant selects, and an unknown variant is EFF0002", async () => {
    const one = await run("audit", "specs/efficientnet.effnet", "--variant", "b3", "--json");
    expect(JSON.parse(one.stdout).variants.map((v: { name: string }) => v.name)).toEqual(["B3"]);
    const none = await run("audit", "specs/efficientnet.effnet", "--variant", "B9");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("error[EFF0002]: no variant named `B9`");
  });

  it("a missing file is EFF0001, also as JSON", async () => {
    const text = await run("audit", "nope.effnet");
    expect(text.code).toBe(1);
    expect(text.stderr).toContain("error[EFF0001]: cannot read nope.effnet: no such file");
    const json = await run("audit", "nope.effnet", "--json");
    expect(JSON.parse(json.stdout).diagnostics[0].code).toBe("EFF0001");
  });

  it("refuses an absurd variant unless told --allow-huge", async () => {
    const refused = await run("audit", "test/errors/EFF3001-variant-too-large.effnet", "--variant", "Huge");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("EFF3001");
  });

  it("fmt --check passes on the shipped specs", async () => {
    expect((await run("fmt", "--check", "specs/efficientnet.effnet", "specs/mobilenetv2.effnet")).code).toBe(0);
  });

  it("writes all files or none (EFF0003)", () => {
    const dir = mkdtempSync(join(tmpdir(), "effnet-"));
    writeFileSync(join(dir, "blocker"), "a file where a folder should be");
    const diagnostics = writeFilesAtomically([
      { path: join(dir, "ok.txt"), content: "fine" },
      { path: join(dir, "blocker", "inside.txt"), content: "cannot be written" },
    ]);
    expect(diagnostics.map((d) => d.code)).toEqual(["EFF0003"]);
    expect(existsSync(join(dir, "ok.txt"))).toBe(false);
    expect(readdirSync(dir)).toEqual(["blocker"]);
  });

  it("works as an installed binary, without a stack trace on bad input", () => {
    const out = execFileSync(
      process.execPath,
      ["bin/effnet.js", "audit", "specs/mobilenetv2.effnet", "--variant", "V2", "--json"],
      {
        encoding: "utf8",
      },
    );
    expect(
      (JSON.parse(out) as { variants: { name: string; params: { trainable: number } }[] }).variants.find(
        (v) => v.name === "V2",
      )!.params.trainable,
    ).toBe(3_504_872);
    const bad = spawnSync(process.execPath, ["bin/effnet.js", "audit", "test/errors/EFF1003-unclosed-block.effnet"], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("error[EFF1003]");
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("stops quietly when its reader closes the pipe early (`| head`)", () => {
    // The shell's `head -c 1` reads one byte and exits; effnet's next write meets EPIPE.
    const piped = spawnSync(
      "sh",
      ["-c", `"${process.execPath}" bin/effnet.js audit specs/efficientnet.effnet --json | head -c 1`],
      { encoding: "utf8" },
    );
    expect(piped.stdout).toBe("{");
    expect(piped.stderr).toBe("");
  });
});
