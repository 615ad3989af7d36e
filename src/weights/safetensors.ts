import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";

/**
 * The safetensors format (huggingface/safetensors, README "Format"): an unsigned 64-bit
 * little-endian header length N, N bytes of UTF-8 JSON mapping each tensor's name to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets into the byte buffer that
 * follows the header) plus an optional `__metadata__` string map, then the raw
 * little-endian, row-major tensor data. The reference writer pads the header with spaces
 * to a multiple of 8 bytes and lays tensors out in the order of their sorted names; this
 * writer does the same, so what it writes it reads back byte for byte.
 */

/** Element sizes of the format's dtypes; only some can become effnet weights (see readers). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export interface SafetensorsEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The tensor's bytes (a view into the file's buffer). */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The format's own limit on the header (safetensors lib.rs MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 100_000_000;

const isShape = (s: unknown): s is number[] => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0);

/** Parses a whole file; every problem is a coded diagnostic (EFF5001, EFF5002, EFF5030-EFF5035), none throws. */
export function readSafetensors(
  bytes: Uint8Array,
  path: string,
): { file?: SafetensorsFile; diagnostics: Diagnostic[] } {
  const fail = (refusal: Diagnostic) => ({ diagnostics: [refusal] });
  if (bytes.byteLength < 8) return fail(diagnostic("EFF5001", { path, size: bytes.byteLength }));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    return fail(diagnostic("EFF5030", { path, length: String(headerLength), limit: MAX_HEADER_BYTES }));
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength)
    return fail(diagnostic("EFF5031", { path, length: n, available: bytes.byteLength - 8 }));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    return fail(diagnostic("EFF5032", { path, detail: (e as Error).message }));
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    return fail(diagnostic("EFF5033", { path }));
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, SafetensorsEntry>();
  const diagnostics: Diagnostic[] = [];
  let metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const offsets = v?.data_offsets;
    if (
      typeof v?.dtype !== "string" ||
      !(v.dtype in DTYPE_BYTES) ||
      !isShape(v.shape) ||
      !isShape(offsets) ||
      offsets.length !== 2 ||
      offsets[1] < offsets[0]
    )
      return fail(diagnostic("EFF5034", { path, key }));
    const [begin, end] = offsets;
    const numel = v.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_BYTES[v.dtype])
      return fail(
        diagnostic("EFF5035", {
          path,
          key,
          dtype: v.dtype,
          shape: v.shape,
          bytes: numel * DTYPE_BYTES[v.dtype],
          span: end - begin,
        }),
      );
    if (end > data.byteLength) {
      diagnostics.push(diagnostic("EFF5002", { path, key, needed: end, size: data.byteLength }));
      continue;
    }
    tensors.set(key, { dtype: v.dtype, shape: v.shape, bytes: data.subarray(begin, end) });
  }
  return diagnostics.length ? { diagnostics } : { file: { tensors, metadata }, diagnostics };
}

/** float32 values of an F32 entry (little-endian on every platform). */
export function float32Values(entry: SafetensorsEntry): Float32Array {
  const out = new Float32Array(entry.bytes.byteLength / 4);
  const view = new DataView(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: "F32" | "I64";
  readonly shape: readonly number[];
  readonly values: Float32Array | BigInt64Array;
}

/** The file's bytes: tensors in sorted-name order, header space-padded to 8 bytes, as the reference writer does. */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of sorted) {
    const size = t.values.length * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const t of sorted) {
    if (t.values instanceof Float32Array) for (const x of t.values) view.setFloat32((at += 4) - 4, x, true);
    else for (const x of t.values) view.setBigInt64((at += 8) - 8, x, true);
  }
  return out;
}
