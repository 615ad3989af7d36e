import { describe, expect, it } from "vitest";
import pngjs from "pngjs";
import { decodeImage, MAX_IMAGE_PIXELS } from "../../src/runtime/data.ts";
import { RuntimeUserError } from "../../src/runtime/errors.ts";

/** A real 2×2 PNG whose IHDR then claims `width`×`height` (issue 15: a 110 KB file claiming 30000×30000 took 14 GB). */
function pngClaiming(width: number, height: number): Uint8Array {
  const png = new pngjs.PNG({ width: 2, height: 2 });
  png.data.fill(128);
  const bytes = new Uint8Array(pngjs.PNG.sync.write(png));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

describe("image header limits", () => {
  it("refuses a PNG whose header claims more than MAX_IMAGE_PIXELS before decoding it", () => {
    const start = performance.now();
    expect(() => decodeImage(pngClaiming(30000, 30000), "huge.png")).toThrow(RuntimeUserError);
    expect(() => decodeImage(pngClaiming(30000, 30000), "huge.png")).toThrow(/30000×30000 pixels \(900 MP\)/);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(30000 * 30000).toBeGreaterThan(MAX_IMAGE_PIXELS);
  });

  it("still decodes an ordinary PNG, and calls a truncated one truncated", () => {
    const png = new pngjs.PNG({ width: 3, height: 2 });
    png.data.fill(200);
    const image = decodeImage(new Uint8Array(pngjs.PNG.sync.write(png)), "ok.png");
    expect([image.width, image.height]).toEqual([3, 2]);
    const truncated = new Uint8Array(pngjs.PNG.sync.write(png)).slice(0, 12);
    expect(() => decodeImage(truncated, "cut.png")).toThrow(/truncated/);
  });
});
