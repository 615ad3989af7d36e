import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { FileTooLargeError, readBounded } from "../files/read.ts";
import { codedError, fsReason, RuntimeUserError } from "./errors.ts";

/**
 * Image classification data for training and prediction, held in memory as float32 RGB in
 * [0, 1] (NHWC), so every loader here produces the same range and a model trained on one
 * source predicts on another. Models take pixels in [0, 255] and normalise them in the
 * model, as Keras's EfficientNet does (the convention's preprocessing,
 * src/vocabulary/conventions.ts): modelInput scales a batch on its way in.
 */
export interface ImageDataset {
  readonly classNames: readonly string[];
  readonly height: number;
  readonly width: number;
  /** count × height × width × 3 values in [0, 1]. */
  readonly images: Float32Array;
  /** One class index per image. */
  readonly labels: Int32Array;
  readonly count: number;
}

export const CHANNELS = 3;

/** What a model's input pixel values range over: [0, PIXEL_MAX]. */
export const PIXEL_MAX = 255;

/** A batch of [0, 1] images as the model's input tensor, pixels in [0, 255]. */
export function modelInput(values: Float32Array, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.tensor4d(values, shape), PIXEL_MAX) as tf.Tensor4D);
}

/** mulberry32: a small seeded PRNG (public domain, Tommy Ettinger), so data and shuffles repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of stream `stream` of a run seeded with `seed` (one per epoch's shuffle and
 * augmentation, one for the precise-BN sample), so each is reproducible on its own and a
 * resumed run draws what the uninterrupted one would. A multiplicative hash (Knuth's
 * 2654435761) keeps neighbouring (seed, stream) pairs apart.
 */
export function streamSeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 2654435761) + Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
}

// ---------------------------------------------------------------------------------------
// The shipped data set: coloured shapes, drawn in code so that tests and the README demo
// need no download and every run sees the same images.

/** Whether the point (u, v), relative to the shape's centre and already rotated into the shape's frame, lies inside a shape of radius r. */
type ShapeTest = (u: number, v: number, r: number) => boolean;

const SHAPES: readonly { readonly name: string; readonly inside: ShapeTest }[] = [
  { name: "circle", inside: (u, v, r) => u * u + v * v <= r * r },
  // A square inscribed in the circle of radius r: half side r/√2.
  { name: "square", inside: (u, v, r) => Math.max(Math.abs(u), Math.abs(v)) <= r * Math.SQRT1_2 },
  // Equilateral triangle with circumradius r, apex up: inside the three edges' half-planes.
  {
    name: "triangle",
    inside: (u, v, r) => v >= -r / 2 && Math.sqrt(3) * u - v <= r && -Math.sqrt(3) * u - v <= r,
  },
  {
    name: "cross",
    inside: (u, v, r) => (Math.abs(u) <= r * 0.3 && Math.abs(v) <= r) || (Math.abs(v) <= r * 0.3 && Math.abs(u) <= r),
  },
];

export const SHAPE_CLASSES: readonly string[] = SHAPES.map((s) => s.name);

export interface ShapesOptions {
  /** Images in total; classes are balanced (image i shows class i mod classes). */
  readonly count: number;
  /** Square image side in pixels. */
  readonly resolution: number;
  /** How many of circle, square, triangle, cross (default 3). */
  readonly classes?: number;
  /** Which shapes, by name (kept in the data set's order), instead of the first `classes`: another task, for fine-tuning. */
  readonly shapes?: readonly string[];
  readonly seed?: number;
}

/**
 * The "shapes" data set: one filled shape per image at a random position, size, rotation
 * and colour on a darker random background, with a little pixel noise. Deterministic in
 * (count, resolution, classes, seed); easy enough that a small network learns it in a few
 * hundred steps, hard enough that it must look at geometry rather than colour.
 */
export function shapesDataset(options: ShapesOptions): ImageDataset {
  const unknown = (options.shapes ?? []).filter((name) => !SHAPE_CLASSES.includes(name));
  if (unknown.length)
    throw new RuntimeUserError(
      `the shapes data set has no ${unknown.join(", ")}; its shapes are ${SHAPE_CLASSES.join(", ")}`,
    );
  const chosen = options.shapes ? SHAPES.filter((s) => options.shapes!.includes(s.name)) : undefined;
  const classes = chosen?.length ?? options.classes ?? 3;
  if (!Number.isInteger(classes) || classes < 2 || classes > SHAPES.length)
    throw new RuntimeUserError(`the shapes data set has 2 to ${SHAPES.length} classes, not ${classes}`);
  if (!Number.isInteger(options.count) || options.count < 1)
    throw new RuntimeUserError(`the shapes data set needs a positive whole number of images, not ${options.count}`);
  const size = options.resolution;
  if (!Number.isInteger(size) || size < 8)
    throw new RuntimeUserError(`shapes images must be at least 8 pixels wide, not ${size}`);
  const random = seededRandom(options.seed ?? 1);
  const pixels = size * size * CHANNELS;
  const images = datasetStorage(options.count, size);
  const labels = new Int32Array(options.count);
  for (let i = 0; i < options.count; i++) {
    const label = i % classes;
    labels[i] = label;
    const background = [0, 1, 2].map(() => random() * 0.45);
    const foreground = [0, 1, 2].map(() => 0.55 + random() * 0.45);
    const radius = size * (0.22 + random() * 0.2);
    const cx = radius + random() * (size - 2 * radius);
    const cy = radius + random() * (size - 2 * radius);
    const angle = random() * 2 * Math.PI;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const { inside } = (chosen ?? SHAPES)[label];
    const base = i * pixels;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const colour = inside(cos * dx + sin * dy, -sin * dx + cos * dy, radius) ? foreground : background;
        const p = base + (y * size + x) * CHANNELS;
        for (let c = 0; c < CHANNELS; c++) images[p + c] = Math.min(1, Math.max(0, colour[c] + (random() - 0.5) * 0.1));
      }
    }
  }
  return {
    classNames: chosen ? chosen.map((s) => s.name) : SHAPE_CLASSES.slice(0, classes),
    height: size,
    width: size,
    images,
    labels,
    count: options.count,
  };
}

// ---------------------------------------------------------------------------------------
// Image folders: one sub-folder per class, PNG or JPEG files inside (the layout of Keras's
// image_dataset_from_directory and torchvision's ImageFolder).

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);

/**
 * The most pixels an image may have, read from its header before anything is decoded:
 * jpeg-js's own default limit (maxResolutionInMP 100), applied to PNG too, whose decoder
 * has none (a 110 KB PNG that claims 30000×30000 pixels took 14 GB and minutes).
 */
export const MAX_IMAGE_PIXELS = 100e6;

/**
 * The largest image file read (checked while reading, so a device or a pipe named as an
 * image is bounded too): far above a 100 MP JPEG or PNG of photographic content.
 */
export const MAX_IMAGE_FILE_BYTES = 256 * 2 ** 20;

/** PNG's IHDR chunk comes first (PNG spec §5.2, §11.2.2): width and height, big-endian, at bytes 16 and 20. */
function refuseHugeImage(bytes: Uint8Array, path: string): void {
  if (bytes.length < 24) throw codedError("EFF6002", { path, reason: "the PNG file is truncated" });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  if (width * height > MAX_IMAGE_PIXELS)
    throw codedError("EFF6001", {
      path,
      size: `${width}×${height} pixels (${((width * height) / 1e6).toFixed(0)} MP)`,
      limit: `${MAX_IMAGE_PIXELS / 1e6} MP`,
    });
}

/**
 * The most bytes a data set may take in memory (float32 RGB): 4 GiB, the wasm backend's
 * whole heap. Checked before allocating, so `train --resolution 100000` is a coded line
 * instead of a typed-array error, and a large folder at a large resolution does not swap.
 */
export const MAX_DATASET_BYTES = 4 * 2 ** 30;

/** The float32 storage of `count` images of size × size RGB (of `folder`, else drawn shapes), refused (EFF6003) past MAX_DATASET_BYTES. */
function datasetStorage(count: number, size: number, folder?: string): Float32Array {
  const bytes = count * size * size * CHANNELS * Float32Array.BYTES_PER_ELEMENT;
  if (bytes > MAX_DATASET_BYTES)
    throw codedError("EFF6003", {
      count,
      ...(folder === undefined ? {} : { folder }),
      size,
      needs: `${(bytes / 2 ** 30).toPrecision(3)} GiB`,
      limit: `${MAX_DATASET_BYTES / 2 ** 30} GiB`,
    });
  return new Float32Array(count * size * size * CHANNELS);
}

/** Decodes a PNG or JPEG (recognised by its signature, not its name) to RGBA bytes. */
export function decodeImage(bytes: Uint8Array, path: string): { width: number; height: number; rgba: Uint8Array } {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (isPng) refuseHugeImage(bytes, path);
  try {
    if (isPng) {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        width: png.width,
        height: png.height,
        rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    }
    if (isJpeg) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: image.width, height: image.height, rgba: image.data };
    }
  } catch (e) {
    throw codedError("EFF6002", { path, reason: (e as Error).message.split("\n")[0] }, e);
  }
  throw codedError("EFF6002", { path, reason: "not a PNG or JPEG file" });
}

/**
 * RGBA bytes → float RGB in [0, 1], resized to size × size by bilinear interpolation
 * (tf.image.resizeBilinear with half-pixel centres, as TF2's tf.image.resize). The aspect
 * ratio is not kept, as Keras's image_dataset_from_directory does by default.
 */
export function toModelInput(image: { width: number; height: number; rgba: Uint8Array }, size: number): Float32Array {
  const rgb = new Float32Array(image.width * image.height * CHANNELS);
  for (let i = 0, j = 0; i < rgb.length; i += CHANNELS, j += 4) {
    rgb[i] = image.rgba[j] / 255;
    rgb[i + 1] = image.rgba[j + 1] / 255;
    rgb[i + 2] = image.rgba[j + 2] / 255;
  }
  if (image.width === size && image.height === size) return rgb;
  return tf.tidy(
    () =>
      tf.image
        .resizeBilinear(tf.tensor3d(rgb, [image.height, image.width, CHANNELS]), [size, size], false, true)
        .dataSync() as Float32Array,
  );
}

export function readImageFile(path: string, size: number): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = readBounded(path, MAX_IMAGE_FILE_BYTES);
  } catch (e) {
    if (e instanceof FileTooLargeError)
      throw codedError("EFF6001", {
        path,
        size: `a file of more than ${MAX_IMAGE_FILE_BYTES / 2 ** 20} MiB`,
        limit: `files of ${MAX_IMAGE_FILE_BYTES / 2 ** 20} MiB`,
      });
    throw new RuntimeUserError(`cannot read image ${path}: ${fsReason(e)}`, { cause: e });
  }
  return toModelInput(decodeImage(bytes, path), size);
}

function listDirectory(path: string, what: string): string[] {
  try {
    if (!statSync(path).isDirectory()) throw new RuntimeUserError(`${what} ${path} is not a directory`);
    return readdirSync(path)
      .filter((name) => !name.startsWith("."))
      .sort();
  } catch (e) {
    if (e instanceof RuntimeUserError) throw e;
    throw new RuntimeUserError(`cannot read ${what} ${path}: ${fsReason(e)}`, { cause: e });
  }
}

/** Loads `dir/<class>/<image>` files; class names are the sub-folder names in sorted order, as Keras assigns labels. */
export function loadImageFolder(dir: string, options: { resolution: number }): ImageDataset {
  const size = options.resolution;
  const classNames = listDirectory(dir, "data directory").filter((name) => {
    // A dangling link or a loop of links among the class folders is the user's to fix, named (it was an internal error).
    try {
      return statSync(join(dir, name)).isDirectory();
    } catch (e) {
      throw codedError("EFF6004", { path: join(dir, name), reason: fsReason(e) }, e);
    }
  });
  if (classNames.length < 2) {
    throw new RuntimeUserError(
      `${dir} has ${classNames.length === 0 ? "no class folders" : `one class folder (${classNames[0]})`}; a data directory holds one sub-folder per class (at least two), each with PNG or JPEG images`,
    );
  }
  const files: { path: string; label: number }[] = [];
  classNames.forEach((name, label) => {
    const images = listDirectory(join(dir, name), "class folder").filter((f) =>
      IMAGE_EXTENSIONS.has(extname(f).toLowerCase()),
    );
    if (images.length === 0)
      throw new RuntimeUserError(`class folder ${join(dir, name)} has no PNG or JPEG images (.png, .jpg, .jpeg)`);
    for (const f of images) files.push({ path: join(dir, name, f), label });
  });
  const pixels = size * size * CHANNELS;
  const images = datasetStorage(files.length, size, dir);
  const labels = new Int32Array(files.length);
  files.forEach((f, i) => {
    images.set(readImageFile(f.path, size), i * pixels);
    labels[i] = f.label;
  });
  return { classNames, height: size, width: size, images, labels, count: files.length };
}

/** Encodes one image of a data set as PNG bytes (e.g. to write the shapes set out as an image folder). */
export function encodePng(dataset: ImageDataset, index: number): Buffer {
  const png = new pngjs.PNG({ width: dataset.width, height: dataset.height });
  const base = index * dataset.width * dataset.height * CHANNELS;
  for (let p = 0, q = 0; p < dataset.width * dataset.height * CHANNELS; p += CHANNELS, q += 4) {
    for (let c = 0; c < CHANNELS; c++) png.data[q + c] = Math.round(dataset.images[base + p + c] * 255);
    png.data[q + 3] = 255;
  }
  return pngjs.PNG.sync.write(png);
}

// ---------------------------------------------------------------------------------------
// Batches

/**
 * The images at `indices`, in that order, as float32 pixels in [0, 1] and their labels;
 * `transform` may change the pixels in place (augmentation).
 */
export function batchValues(
  dataset: ImageDataset,
  indices: readonly number[],
  transform?: (values: Float32Array, count: number) => void,
): { values: Float32Array; labels: Int32Array; count: number } {
  const pixels = dataset.height * dataset.width * CHANNELS;
  const values = new Float32Array(indices.length * pixels);
  indices.forEach((index, i) => values.set(dataset.images.subarray(index * pixels, (index + 1) * pixels), i * pixels));
  transform?.(values, indices.length);
  return { values, labels: Int32Array.from(indices, (index) => dataset.labels[index]), count: indices.length };
}

/** Pixels in [0, 1] and labels as the model's input tensor and one-hot targets; the caller disposes both. */
export function valuesToTensors(
  values: Float32Array,
  labels: Int32Array,
  image: { height: number; width: number; classes: number },
): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const xs = modelInput(values, [labels.length, image.height, image.width, CHANNELS]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), image.classes).toFloat() as tf.Tensor2D);
  return { xs, ys };
}

/**
 * The images at `indices` as an NHWC tensor and their labels one-hot; the caller disposes
 * both. `transform` may change the batch's pixels in place first (augmentation).
 */
export function batchTensors(
  dataset: ImageDataset,
  indices: readonly number[],
  transform?: (values: Float32Array, count: number) => void,
): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const { values, labels } = batchValues(dataset, indices, transform);
  return valuesToTensors(values, labels, { ...dataset, classes: dataset.classNames.length });
}

/** Fisher–Yates with a seeded generator: the order of one epoch. */
export function shuffledIndices(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The images at `indices`, in that order, as a data set of their own. */
export function subsetDataset(dataset: ImageDataset, indices: readonly number[]): ImageDataset {
  const pixels = dataset.height * dataset.width * CHANNELS;
  const images = new Float32Array(indices.length * pixels);
  indices.forEach((index, i) => images.set(dataset.images.subarray(index * pixels, (index + 1) * pixels), i * pixels));
  return { ...dataset, images, labels: Int32Array.from(indices, (i) => dataset.labels[i]), count: indices.length };
}

/**
 * A seeded, stratified hold-out split: of each class, round(fraction × its images) go to
 * validation (at least one, and at least one stays for training), chosen by a seeded
 * shuffle, so every class is measured and the split repeats with the seed.
 */
export function splitDataset(
  dataset: ImageDataset,
  fraction: number,
  seed: number,
): { train: ImageDataset; validation: ImageDataset } {
  if (!(fraction > 0 && fraction < 1))
    throw new RuntimeUserError(`the validation fraction must be between 0 and 1, not ${fraction}`);
  const order = shuffledIndices(dataset.count, seededRandom(seed));
  const train: number[] = [];
  const validation: number[] = [];
  dataset.classNames.forEach((name, label) => {
    const members = order.filter((i) => dataset.labels[i] === label);
    if (members.length < 2)
      throw new RuntimeUserError(
        `class ${name} has ${members.length} image${members.length === 1 ? "" : "s"}; a validation split needs at least 2 per class`,
      );
    const held = Math.min(members.length - 1, Math.max(1, Math.round(fraction * members.length)));
    validation.push(...members.slice(0, held));
    train.push(...members.slice(held));
  });
  const byPosition = (a: number, b: number) => a - b;
  return {
    train: subsetDataset(dataset, train.sort(byPosition)),
    validation: subsetDataset(dataset, validation.sort(byPosition)),
  };
}

// ---------------------------------------------------------------------------------------
// Augmentation

/**
 * The smallest share of an image's area a random crop keeps. Inception-style crops (the
 * EfficientNet reference's distorted_bounding_box_crop) go down to 8% of ImageNet photos;
 * effnet's built-in shapes fill a third to two thirds of a small image, and a crop that
 * cuts most of the shape away would teach noise, so crops keep at least half the area.
 */
export const MIN_CROP_AREA = 0.5;
/** Crop aspect ratios, as the reference's (3/4 to 4/3). */
const CROP_ASPECT = [3 / 4, 4 / 3] as const;

/**
 * Random-resized crop and horizontal flip, in place, for `count` images of size × size
 * starting at `values`: a crop of MIN_CROP_AREA–100% of the area at a random aspect
 * ratio and position, resized back to size × size (bilinear, half-pixel centres), then
 * mirrored with probability ½. Deterministic in `random`.
 */
export function augmentImages(values: Float32Array, count: number, size: number, random: () => number): void {
  const pixels = size * size * CHANNELS;
  const source = new Float32Array(pixels);
  for (let n = 0; n < count; n++) {
    const image = values.subarray(n * pixels, (n + 1) * pixels);
    source.set(image);
    const area = MIN_CROP_AREA + random() * (1 - MIN_CROP_AREA);
    const logAspect = Math.log(CROP_ASPECT[0]) + random() * (Math.log(CROP_ASPECT[1]) - Math.log(CROP_ASPECT[0]));
    const aspect = Math.exp(logAspect);
    const cropW = Math.min(size, size * Math.sqrt(area * aspect));
    const cropH = Math.min(size, size * Math.sqrt(area / aspect));
    const x0 = random() * (size - cropW);
    const y0 = random() * (size - cropH);
    const flip = random() < 0.5;
    for (let y = 0; y < size; y++) {
      const sy = Math.min(size - 1, Math.max(0, y0 + ((y + 0.5) * cropH) / size - 0.5));
      const ya = Math.floor(sy);
      const yb = Math.min(size - 1, ya + 1);
      const fy = sy - ya;
      for (let x = 0; x < size; x++) {
        const sx = Math.min(size - 1, Math.max(0, x0 + (((flip ? size - 1 - x : x) + 0.5) * cropW) / size - 0.5));
        const xa = Math.floor(sx);
        const xb = Math.min(size - 1, xa + 1);
        const fx = sx - xa;
        for (let c = 0; c < CHANNELS; c++) {
          const at = (yy: number, xx: number) => source[(yy * size + xx) * CHANNELS + c];
          const top = at(ya, xa) * (1 - fx) + at(ya, xb) * fx;
          const bottom = at(yb, xa) * (1 - fx) + at(yb, xb) * fx;
          image[(y * size + x) * CHANNELS + c] = top * (1 - fy) + bottom * fy;
        }
      }
    }
  }
}
