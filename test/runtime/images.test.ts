import { describe, expect, it } from "vitest";
import pngjs from "pngjs";
import { decodeImage, MAX_IMAGE_PIXELS, shapesDataset } from "../../src/runtime/data.ts";
import { RuntimeUserError } from "../../src/runtime/errors.ts";
import { pngClaiming } from "../helpers/png.ts";

/** Coded failures of `code` (EFF6xxx) thrown by `f`. */
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeUserError);
    return (e as RuntimeUserError).code;
  }
  return undefined;
}

describe("image header limits", () => {
  it("refuses a PNG whose header claims more than MAX_IMAGE_PIXELS before decoding it (EFF6001)", () => {
    expect(() => decodeImage(pngClaiming(30000, 30000), "huge.png")).toThrow(/30000×30000 pixels \(900 MP\)/);
    expect(codeOf(() => decodeImage(pngClaiming(30000, 30000), "huge.png"))).toBe("EFF6001");
    expect(30000 * 30000).toBeGreaterThan(MAX_IMAGE_PIXELS);
  });

  it("still decodes an ordinary PNG, and calls a truncated one or another format undecodable (EFF6002)", () => {
    const png = new pngjs.PNG({ width: 3, height: 2 });
    png.data.fill(200);
    const image = decodeImage(new Uint8Array(pngjs.PNG.sync.write(png)), "ok.png");
    expect([image.width, image.height]).toEqual([3, 2]);
    const truncated = new Uint8Array(pngjs.PNG.sync.write(png)).slice(0, 12);
    expect(() => decodeImage(truncated, "cut.png")).toThrow(/truncated/);
    expect(codeOf(() => decodeImage(truncated, "cut.png"))).toBe("EFF6002");
    expect(codeOf(() => decodeImage(new TextEncoder().encode("GIF89a"), "a.gif"))).toBe("EFF6002");
  });

  it("refuses a data set too large to hold before allocating it (EFF6003; train --resolution 100000 was an internal error)", () => {
    expect(() => shapesDataset({ count: 240, resolution: 100000 })).toThrow(/240 shapes images at 100000×100000 need/);
    expect(codeOf(() => shapesDataset({ count: 240, resolution: 100000 }))).toBe("EFF6003");
  });
});
