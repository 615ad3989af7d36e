/**
 * Two WebAssembly SIMD loops that run on tfjs-backend-wasm's own heap: the depthwise
 * convolution's filter gradient and input gradient, computed in place of tfjs ops.
 *
 * Why: a depthwise convolution's gradients are per-channel correlations, which no
 * tfjs-backend-wasm kernel computes directly (XNNPACK's depthwise convolution wants a
 * small filter; the filter gradient's "filter" is dy, the size of the image). Built from
 * tfjs ops, the filter gradient is, per filter tap, a copy of the tap's patches, a
 * multiply and a pooled sum (depthwise_backprop_filter.ts, 'pooledTaps'): about six
 * memory passes over the activation per tap, 54 for a 3×3 filter and 150 for a 5×5,
 * several times the cost of the depthwise forward convolutions. Here one pass over dy does all taps: for every output position
 * and tap, one multiply-add of a row of K channels (4 lanes at a time), accumulating in a
 * filter-sized buffer that stays in the L1 cache.
 *
 * The loop (both gradients, NHWC, channel multiplier 1, undilated; k in steps of 4):
 *   for n, i < OH, j < OW, r < R, c < C with h = i·sH + r − padTop in [0, H) and
 *   w = j·sW + c − padLeft in [0, W):
 *     filter gradient: dw[r, c, k] += x[n, h, w, k] · dy[n, i, j, k]
 *     input gradient:  dx[n, h, w, k] += w[r, c, k] · dy[n, i, j, k]
 * i.e. the definitions themselves (see depthwise_backprop_filter.ts and
 * depthwise_backprop_input.ts), positions off the input being the zero padding. The sums
 * run in another order than tfjs's kernels (float32 rounding; tested at 1e-4 against
 * tfjs-backend-cpu's).
 *
 * How: the module imports tfjs-backend-wasm's WebAssembly.Memory (emscripten exports it
 * as `Module.asm.memory`), so it reads and writes tensors where they are, by the
 * `memoryOffset` tfjs keeps for each buffer; it is assembled here from a few opcodes
 * (WebAssembly core spec 2.0, binary format; SIMD opcodes from the fixed-width SIMD
 * proposal, standard since 2021) rather than shipped as a binary, so the source is the
 * loop above. Where WebAssembly SIMD is missing, `simdLoopsFor` returns undefined and the
 * callers keep their tfjs-op methods.
 */

/** The two loops, bound to one tfjs-backend-wasm heap; pointers are byte offsets into it. */
export interface SimdLoops {
  /** dw (zeroed by the caller) += correlation of x with dy; see the header. */
  depthwiseFilterGradient(x: number, dy: number, dw: number, shape: DepthwiseShape): void;
  /** dx (zeroed by the caller) += the filter scattered by dy; see the header. */
  depthwiseInputGradient(filter: number, dy: number, dx: number, shape: DepthwiseShape): void;
}

/** Geometry of an NHWC depthwise convolution with channel multiplier 1. */
export interface DepthwiseShape {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  /** A multiple of 4 (the loops' lanes). */
  readonly channels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

// ---------------------------------------------------------------------------------------
// A minimal assembler: the opcodes used below.

const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  simd: 0xfd,
} as const;
const simd = { v128Load: 0x00, v128Store: 0x0b, f32x4Add: 0xe4, f32x4Mul: 0xe6 } as const;
const VOID_BLOCK = 0x40;
const I32 = 0x7f;

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Signed LEB128 (for i32.const). */
function sleb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (text: string) => vector([...text].map((ch) => [ch.charCodeAt(0)]));

/** Code emitter over named i32 locals. */
class Emitter {
  readonly code: number[] = [];
  constructor(private readonly locals: readonly string[]) {}
  private index(local: string): number {
    const i = this.locals.indexOf(local);
    if (i < 0) throw new Error(`simd_loops: unknown local ${local}`);
    return i;
  }
  get(local: string): this {
    this.code.push(op.localGet, ...uleb(this.index(local)));
    return this;
  }
  set(local: string): this {
    this.code.push(op.localSet, ...uleb(this.index(local)));
    return this;
  }
  const(value: number): this {
    this.code.push(op.i32Const, ...sleb(value));
    return this;
  }
  raw(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  /** local = a + b·c (locals or constants), the index arithmetic of the loops. */
  assignSum(local: string, a: string, b: string, c: string): this {
    return this.get(a).get(b).get(c).raw(op.i32Mul, op.i32Add).set(local);
  }
  /** for (local = 0; local < limit; local++) body — runs body at least zero times. */
  forRange(local: string, limit: string, body: () => void): this {
    this.const(0).set(local);
    this.raw(op.block, VOID_BLOCK);
    this.get(local).get(limit).raw(op.i32LtU, 0x45 /* i32.eqz */, op.brIf, 0);
    this.raw(op.loop, VOID_BLOCK);
    body();
    this.get(local).const(1).raw(op.i32Add).set(local);
    this.get(local).get(limit).raw(op.i32LtU, op.brIf, 0);
    this.raw(op.end, op.end);
    return this;
  }
  /** if (value <u limit) body: value is an index that may have gone negative. */
  ifBelow(value: string, limit: string, body: () => void): this {
    this.get(value).get(limit).raw(op.i32LtU, op.if, VOID_BLOCK);
    body();
    this.raw(op.end);
    return this;
  }
}

const PARAMS = [
  "a", // the tensor read per input position (x) or per tap (the filter)
  "dy",
  "acc", // the tensor accumulated per tap (dw) or per input position (dx)
  "N",
  "H",
  "W",
  "K",
  "OH",
  "OW",
  "R",
  "C",
  "sH",
  "sW",
  "pT",
  "pL",
] as const;
const LOCALS = ["n", "i", "j", "r", "c", "h", "w", "rowBytes", "dyRow", "pixel", "tap", "pa", "pb", "pacc", "end"];

/**
 * One depthwise gradient loop (see the header). `tapAccumulates`: dw[tap] += x[pixel]·dy
 * (the filter gradient); otherwise dx[pixel] += w[tap]·dy (the input gradient).
 */
function depthwiseLoop(tapAccumulates: boolean): number[] {
  const e = new Emitter([...PARAMS, ...LOCALS]);
  e.get("K").const(2).raw(op.i32Shl).set("rowBytes"); // K·4 bytes per row of channels
  e.forRange("n", "N", () =>
    e.forRange("i", "OH", () =>
      e.forRange("j", "OW", () => {
        // dyRow = dy + ((n·OH + i)·OW + j)·rowBytes
        e.get("n").get("OH").raw(op.i32Mul).get("i").raw(op.i32Add).get("OW").raw(op.i32Mul).get("j").raw(op.i32Add);
        e.get("rowBytes").raw(op.i32Mul).get("dy").raw(op.i32Add).set("dyRow");
        e.forRange("r", "R", () => {
          // h = i·sH + r − pT
          e.get("i").get("sH").raw(op.i32Mul).get("r").raw(op.i32Add).get("pT").raw(op.i32Sub).set("h");
          e.ifBelow("h", "H", () =>
            e.forRange("c", "C", () => {
              e.get("j").get("sW").raw(op.i32Mul).get("c").raw(op.i32Add).get("pL").raw(op.i32Sub).set("w");
              e.ifBelow("w", "W", () => {
                // pixel = ((n·H + h)·W + w)·rowBytes; tap = (r·C + c)·rowBytes
                e.get("n").get("H").raw(op.i32Mul).get("h").raw(op.i32Add).get("W").raw(op.i32Mul).get("w");
                e.raw(op.i32Add).get("rowBytes").raw(op.i32Mul).set("pixel");
                e.get("r").get("C").raw(op.i32Mul).get("c").raw(op.i32Add).get("rowBytes").raw(op.i32Mul).set("tap");
                const [aOffset, accOffset] = tapAccumulates ? ["pixel", "tap"] : ["tap", "pixel"];
                e.get("a").get(aOffset).raw(op.i32Add).set("pa");
                e.get("dyRow").set("pb");
                e.get("acc").get(accOffset).raw(op.i32Add).set("pacc");
                e.get("pacc").get("rowBytes").raw(op.i32Add).set("end");
                // do { acc[0..4) += a[0..4) · dy[0..4) } while (pacc < end): K ≥ 4
                const memarg = [4 /* align 2^4 */, 0 /* offset */];
                e.raw(op.loop, VOID_BLOCK);
                e.get("pacc");
                e.get("pacc").raw(op.simd, ...uleb(simd.v128Load), ...memarg);
                e.get("pa").raw(op.simd, ...uleb(simd.v128Load), ...memarg);
                e.get("pb").raw(op.simd, ...uleb(simd.v128Load), ...memarg);
                e.raw(op.simd, ...uleb(simd.f32x4Mul), op.simd, ...uleb(simd.f32x4Add));
                e.raw(op.simd, ...uleb(simd.v128Store), ...memarg);
                for (const p of ["pa", "pb", "pacc"]) e.get(p).const(16).raw(op.i32Add).set(p);
                e.get("pacc").get("end").raw(op.i32LtU, op.brIf, 0);
                e.raw(op.end);
              });
            }),
          );
        });
      }),
    ),
  );
  e.raw(op.end);
  const localDeclarations = vector([[...uleb(LOCALS.length), I32]]);
  const body = [...localDeclarations, ...e.code];
  return [...uleb(body.length), ...body];
}

/** The module: imports env.memory, exports the two loops. */
export function assembleSimdModule(): Uint8Array {
  const functionType = [0x60, ...vector(PARAMS.map(() => [I32])), ...vector([])];
  const exports = ["depthwiseFilterGradient", "depthwiseInputGradient"];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // "\0asm", version 1
    ...section(1, vector([functionType])),
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02 /* memory */, 0x00 /* min only */, 0x00]])),
    ...section(3, vector(exports.map(() => [0]))),
    ...section(7, vector(exports.map((exportName, i) => [...name(exportName), 0x00 /* func */, i]))),
    ...section(10, vector([depthwiseLoop(true), depthwiseLoop(false)])),
  ];
  return new Uint8Array(bytes);
}

/** A WebAssembly.Memory, opaque here (the project's TypeScript libs have no WebAssembly types). */
export type WasmMemory = object;

/** The parts of the WebAssembly JS API used here. */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

const instances = new WeakMap<WasmMemory, SimdLoops | null>();

/** The loops bound to `memory` (compiled once per memory), or undefined where WebAssembly SIMD is unavailable. */
export function simdLoopsFor(memory: WasmMemory | undefined): SimdLoops | undefined {
  if (!memory || !webAssembly) return undefined;
  if (!instances.has(memory)) {
    const bytes = assembleSimdModule();
    let loops: SimdLoops | null = null;
    if (webAssembly.validate(bytes)) {
      const instance = new webAssembly.Instance(new webAssembly.Module(bytes), { env: { memory } });
      type Loop = (...args: number[]) => void;
      const { depthwiseFilterGradient, depthwiseInputGradient } = instance.exports as Record<string, Loop>;
      const args = (s: DepthwiseShape) => [
        s.batch,
        s.inHeight,
        s.inWidth,
        s.channels,
        s.outHeight,
        s.outWidth,
        s.filterHeight,
        s.filterWidth,
        s.strideHeight,
        s.strideWidth,
        s.padTop,
        s.padLeft,
      ];
      loops = {
        depthwiseFilterGradient: (x, dy, dw, s) => depthwiseFilterGradient(x, dy, dw, ...args(s)),
        depthwiseInputGradient: (filter, dy, dx, s) => depthwiseInputGradient(filter, dy, dx, ...args(s)),
      };
    }
    instances.set(memory, loops);
  }
  return instances.get(memory) ?? undefined;
}
