import type * as tf from "@tensorflow/tfjs";
import type { NamedWeight } from "./fold.ts";

/**
 * Weights in the storage types that tfjs's own loader dequantizes: a weights-manifest entry
 * with `quantization: { dtype, scale, min }` (tfjs-core io/io_utils.ts decodeWeights:
 * uint8/uint16 values v become v·scale + min, float16 values are widened to float32).
 * The encoding is tfjs-converter's (python/tensorflowjs/quantization.py quantize_weights):
 * float16 by round-to-nearest-even, uint8 by an affine map over the tensor's [min, max],
 * nudged so that 0 is exactly representable when the range covers it.
 */
export const WEIGHT_TYPES = ["float32", "float16", "uint8"] as const;
export type WeightType = (typeof WEIGHT_TYPES)[number];

export interface EncodedWeights {
  readonly specs: tf.io.WeightsManifestEntry[];
  readonly data: Uint8Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE half-precision bits nearest to a float32 (ties to even; overflow to ±∞, NaN kept), as numpy's astype(float16). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    // Subnormal: the implicit 1 joins the mantissa, shifted right by 1 − e more places.
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is still right (up to ∞)
  return sign | h;
}

/** tfjs-converter's _get_affine_quantization_range for uint8: scale, and min nudged so that 0 maps to an integer. */
function affineRange(min: number, max: number): { scale: number; min: number } {
  const levels = 255;
  const scale = (max - min) / levels;
  if (min <= 0 && 0 <= max) return { scale, min: -Math.round((0 - min) / scale) * scale };
  return { scale, min };
}

function encodeOne(w: NamedWeight, type: WeightType): { spec: tf.io.WeightsManifestEntry; bytes: Uint8Array } {
  const base = { name: w.name, shape: [...w.shape], dtype: "float32" as const };
  const v = w.values;
  if (type === "float32")
    return { spec: base, bytes: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) };
  if (type === "float16") {
    const halves = new Uint16Array(v.length);
    for (let i = 0; i < v.length; i++) halves[i] = float16Bits(v[i]);
    return { spec: { ...base, quantization: { dtype: "float16" } }, bytes: new Uint8Array(halves.buffer) };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  if (!(lo < hi)) {
    // One value (or none): all zeros at scale 1, as the converter writes it.
    const min = Number.isFinite(lo) ? lo : 0;
    return { spec: { ...base, quantization: { dtype: "uint8", scale: 1, min } }, bytes: new Uint8Array(v.length) };
  }
  const { scale, min } = affineRange(lo, hi);
  const max = 255 * scale + min;
  const bytes = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) bytes[i] = Math.round((Math.min(Math.max(v[i], min), max) - min) / scale);
  return { spec: { ...base, quantization: { dtype: "uint8", scale, min } }, bytes };
}

/** Every weight in `type`, concatenated in order, with the manifest entries that describe them. */
export function encodeWeights(weights: readonly NamedWeight[], type: WeightType): EncodedWeights {
  const parts = weights.map((w) => encodeOne(w, type));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.bytes.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p.bytes, offset);
    offset += p.bytes.byteLength;
  }
  return { specs: parts.map((p) => p.spec), data };
}
