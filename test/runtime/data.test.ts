import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import jpeg from "jpeg-js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  batchTensors,
  PIXEL_MAX,
  encodePng,
  loadImageFolder,
  SHAPE_CLASSES,
  shapesDataset,
} from "../../src/runtime/data.ts";
import { RuntimeUserError } from "../../src/runtime/errors.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  tf.enableProdMode();
});

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "effnet-data-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("shapes data set", () => {
  it("is deterministic in its seed, balanced, and in [0, 1]", () => {
    const a = shapesDataset({ count: 12, resolution: 16, seed: 7 });
    const b = shapesDataset({ count: 12, resolution: 16, seed: 7 });
    const c = shapesDataset({ count: 12, resolution: 16, seed: 8 });
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(c.images);
    expect(a.classNames).toEqual(SHAPE_CLASSES.slice(0, 3));
    expect(Array.from(a.labels)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(a.images.length).toBe(12 * 16 * 16 * 3);
    expect(a.images.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it("draws a shape: each image has a bright foreground and a darker background", () => {
    const data = shapesDataset({ count: 4, resolution: 24, classes: 4, seed: 3 });
    const size = 24 * 24 * 3;
    for (let i = 0; i < data.count; i++) {
      const image = data.images.subarray(i * size, (i + 1) * size);
      let bright = 0;
      for (let p = 0; p < image.length; p += 3) if (Math.max(image[p], image[p + 1], image[p + 2]) > 0.55) bright++;
      // Foreground colours have every channel ≥ 0.55 (less noise), the background every channel ≤ 0.45.
      expect(bright).toBeGreaterThan(24 * 24 * 0.05);
      expect(bright).toBeLessThan(24 * 24 * 0.9);
    }
  });

  it("refuses sizes it cannot draw with a user error", () => {
    expect(() => shapesDataset({ count: 4, resolution: 4 })).toThrow(RuntimeUserError);
    expect(() => shapesDataset({ count: 4, resolution: 16, classes: 9 })).toThrow(RuntimeUserError);
  });

  it("batches as NHWC images of pixels in [0, 255] and one-hot labels", () => {
    const data = shapesDataset({ count: 6, resolution: 8 });
    const { xs, ys } = batchTensors(data, [5, 0]);
    expect(xs.shape).toEqual([2, 8, 8, 3]);
    expect(ys.arraySync()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    // The models take pixels in [0, 255] (their convention's preprocessing is inside them).
    expect(Array.from(xs.dataSync().slice(0, 8 * 8 * 3))).toEqual(
      Array.from(data.images.subarray(5 * 192, 6 * 192), (v) => Math.fround(v * PIXEL_MAX)),
    );
    tf.dispose([xs, ys]);
  });
});

describe("image folder", () => {
  /** Writes dir/<class>/<n>.png from the shapes set, plus one JPEG, and returns the source images. */
  function writeFolder(dir: string) {
    const data = shapesDataset({ count: 4, resolution: 16, classes: 2, seed: 5 });
    for (let i = 0; i < data.count; i++) {
      mkdirSync(join(dir, data.classNames[data.labels[i]]), { recursive: true });
      writeFileSync(join(dir, data.classNames[data.labels[i]], `${i}.png`), encodePng(data, i));
    }
    // A 40×20 JPEG of solid orange in class "square": it must be decoded and resized.
    const rgba = new Uint8Array(40 * 20 * 4);
    for (let p = 0; p < rgba.length; p += 4) rgba.set([255, 128, 0, 255], p);
    writeFileSync(join(dir, "square", "wide.JPG"), jpeg.encode({ data: rgba, width: 40, height: 20 }, 95).data);
    writeFileSync(join(dir, "square", "notes.txt"), "not an image: ignored");
    return data;
  }

  it("loads one class per sub-folder, PNG and JPEG, resized to the resolution", () => {
    const dir = tempDir();
    const source = writeFolder(dir);
    const loaded = loadImageFolder(dir, { resolution: 16 });
    expect(loaded.classNames).toEqual(["circle", "square"]);
    expect(loaded.count).toBe(5);
    // Sorted by class, then file name: circle/0, circle/2, square/1, square/3, square/wide.JPG.
    expect(Array.from(loaded.labels)).toEqual([0, 0, 1, 1, 1]);
    const size = 16 * 16 * 3;
    // PNG is lossless: pixels come back to within 8-bit quantisation.
    const original = source.images.subarray(0, size);
    const roundTripped = loaded.images.subarray(0, size);
    for (let i = 0; i < size; i++)
      expect(Math.abs(roundTripped[i] - original[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    // The JPEG: solid orange survives resizing (JPEG is lossy: within a few levels).
    const wide = loaded.images.subarray(4 * size, 5 * size);
    for (let p = 0; p < size; p += 3) {
      expect(wide[p]).toBeCloseTo(1, 1);
      expect(wide[p + 1]).toBeCloseTo(128 / 255, 1);
      expect(wide[p + 2]).toBeCloseTo(0, 1);
    }
  });

  it("reports a missing directory, a single class, an empty class and a broken image as user errors", () => {
    const dir = tempDir();
    expect(() => loadImageFolder(join(dir, "nope"), { resolution: 8 })).toThrow(
      /cannot read data directory .*nope: no such file or directory/,
    );
    mkdirSync(join(dir, "only"));
    expect(() => loadImageFolder(dir, { resolution: 8 })).toThrow(/one class folder \(only\)/);
    mkdirSync(join(dir, "empty"));
    expect(() => loadImageFolder(dir, { resolution: 8 })).toThrow(/class folder .*empty has no PNG or JPEG images/);
    writeFileSync(join(dir, "empty", "broken.png"), "not really a png");
    writeFileSync(join(dir, "only", "fine.png"), encodePng(shapesDataset({ count: 1, resolution: 8 }), 0));
    const error = (() => {
      try {
        loadImageFolder(dir, { resolution: 8 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RuntimeUserError);
    expect((error as RuntimeUserError).userMessage).toMatch(/cannot decode .*broken\.png: not a PNG or JPEG file/);
  });
});
