import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli as run } from "./helpers/cli.ts";

/** Limits checked before work (issue 15): input that would eat the machine is refused with a coded line. */
describe("input limits", () => {
  it.skipIf(!existsSync("/dev/zero"))(
    "refuses an endless spec file (a device) after MAX_SPEC_BYTES, not at 16 GB",
    async () => {
      const r = await run("check", "/dev/zero");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[EFF0010\]: \/dev\/zero is larger than 16 MiB/);
    },
  );

  it("still reads an ordinary spec whole", async () => {
    const r = await run("check", "specs/efficientnet.effnet");
    expect(r.code).toBe(0);
  });
});
