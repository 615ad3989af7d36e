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
 *
 * The module also has two elementwise loops for inference, the logistic sigmoid and swish
 * (x·σ(x), EfficientNet's activation): tfjs-backend-wasm 4.22's Sigmoid is a scalar loop in
 * double precision (`out[i] = 1. / (1. + exp(-x[i]))`,
 * tfjs-backend-wasm/src/cc/kernels/Sigmoid.cc), and tfjs-layers' swish is three kernels
 * (x·1, Sigmoid, a multiply). Four lanes at a time, with XNNPACK's float32 exp (the
 * "rr2-p5" of its sigmoid kernels, constants in EXP_CONSTANTS):
 *   x⁻ = max(x, −88), x' = min(x⁻, 87)     (so that 2^n below is a normal float32 and
 *                                            e^−x' < FLT_MAX; σ(x) = 1 in float32 past 87)
 *   n = nearest(−x'·log2 e)                 (adding 1.5·2^23 + 127 rounds, and leaves n + 127,
 *                                            2^n's exponent bits, in the low bits)
 *   t = x' + n·ln2_hi + n·ln2_lo            (Cody–Waite; n·ln2_hi exact; |t| ≤ ln2/2)
 *   e^−x' = 2^n·(1 + t·p(t))                (p of degree 4, a minimax fit)
 *   σ(x) = 1 / (1 + e^−x'),  swish(x) = x⁻ / (1 + e^−x')   (one correctly rounded division)
 * Error against double precision, wherever the result is a normal float and x ≥ −88: at most
 * 2.41e-7 relative (3.54 ulps of the result for σ, 3.69 for swish) over every float32 in
 * [−88, 87], all 2.2·10^9 (bench/activations.ts); test/runtime/inference_kernels.test.ts
 * asserts 3·2^−23 = 3.6e-7 relative over 2^21 + 2^16 inputs in [−100, 100], dense near 0; below −88 the loop returns 1/(1 + e^88) = 6.1e-39 for σ(x) (< e^−87.3 = 2^−126,
 * not a normal float) and −88/(1 + e^88) = −5.3e-37 for swish (exact: between 0 and that).
 * NaN stays NaN, +∞ gives 1 and +∞. tfjs's Sigmoid rounds a double result, so the two differ
 * by those ulps (tested at 1e-6 relative). Measured on 1.2 M elements (B0's largest swish):
 * 0.80 ms for σ or swish against 0.97 ms for tfjs's Sigmoid and 0.15 ms for a multiply:
 * exp's two dozen float operations per element, not the scalar loop, are its cost.
 */

/** The loops, bound to one tfjs-backend-wasm heap; pointers are byte offsets into it. */
export interface SimdLoops {
  /** dw (zeroed by the caller) += correlation of x with dy; see the header. */
  depthwiseFilterGradient(x: number, dy: number, dw: number, shape: DepthwiseShape): void;
  /** dx (zeroed by the caller) += the filter scattered by dy; see the header. */
  depthwiseInputGradient(filter: number, dy: number, dx: number, shape: DepthwiseShape): void;
  /** out[i] = σ(x[i]) for i < count (a multiple of 4); see the header. `out` may be `x`. */
  sigmoid(x: number, out: number, count: number): void;
  /** out[i] = x[i]·σ(x[i]) for i < count (a multiple of 4); see the header. `out` may be `x`. */
  swish(x: number, out: number, count: number): void;
  /** Adam's update of `count` values (a multiple of 4), pointers in ADAM_POINTERS order; see adamLoop. */
  adam(pointers: AdamPointers, count: number, constants: AdamConstants): void;
}

/** Byte offsets of the buffers Adam's loop reads (w, g, m, v) and writes (the three outputs). */
export interface AdamPointers {
  readonly variable: number;
  readonly gradient: number;
  readonly firstMoment: number;
  readonly secondMoment: number;
  readonly newVariable: number;
  readonly newFirstMoment: number;
  readonly newSecondMoment: number;
}

/** The float32 scalars of Adam's update (update_kernels.ts ADAM_UPDATE's attributes), in the loop's parameter order. */
export const ADAM_CONSTANTS = [
  "beta1",
  "oneMinusBeta1",
  "beta2",
  "oneMinusBeta2",
  "oneMinusAccBeta1",
  "oneMinusAccBeta2",
  "epsilon",
  "minusLearningRate",
] as const;
export type AdamConstants = Readonly<Record<(typeof ADAM_CONSTANTS)[number], number>>;
const ADAM_POINTERS = [
  "variable",
  "gradient",
  "firstMoment",
  "secondMoment",
  "newVariable",
  "newFirstMoment",
  "newSecondMoment",
] as const satisfies readonly (keyof AdamPointers)[];

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
const simd = {
  v128Load: 0x00,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i32x4Shl: 0xab,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Sqrt: 0xe3,
  f32x4Splat: 0x13,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
} as const;
const VOID_BLOCK = 0x40;
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

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
  /** One SIMD instruction (its opcode after the 0xfd prefix) with its immediates. */
  simd(opcode: number, ...immediates: number[]): this {
    return this.raw(op.simd, ...uleb(opcode), ...immediates);
  }
  /** v128.const with `value` in all four float32 lanes. */
  splat(value: number): this {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    for (let lane = 0; lane < 4; lane++) view.setFloat32(4 * lane, value, true);
    return this.simd(simd.v128Const, ...bytes);
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
  return functionBody([[LOCALS.length, I32]], e.code);
}

/** A function body: its locals declared as runs of one type, then the code. */
function functionBody(declarations: [count: number, type: number][], code: number[]): number[] {
  const body = [...vector(declarations.map(([count, type]) => [...uleb(count), type])), ...code];
  return [...uleb(body.length), ...body];
}

/** The value of a C99 hexadecimal float literal such as "-0x1.715476p0" (exact: the constants below are float32). */
function hexFloat(literal: string): number {
  const match = /^(-?)0x([0-9a-f])\.([0-9a-f]*)p([+-]?\d+)$/i.exec(literal);
  if (!match) throw new Error(`simd_loops: not a hexadecimal float: ${literal}`);
  const [, sign, lead, fraction, exponent] = match;
  const significand = parseInt(lead + fraction, 16) / 16 ** fraction.length;
  return (sign ? -1 : 1) * significand * 2 ** Number(exponent);
}

/**
 * The constants of e^−x = 2^n·e^−t (see the header), from XNNPACK's float32 sigmoid kernels
 * (XNNPACK/src/f32-vsigmoid/scalar-rr2-p5-div.c.in: "rr2" the two-step Cody–Waite reduction, "p5"
 * the degree-5 polynomial); the clamp is ours.
 */
const EXP_CONSTANTS = {
  /** x is clamped to [−88, 87]: 2^n then stays a normal float32 (n in [−126, 127]) and e^−x below FLT_MAX. */
  xMax: 87,
  xMin: -88,
  minusLog2e: hexFloat("-0x1.715476p0"),
  /** 1.5·2^23 + 127: adding it rounds to an integer n and leaves n + 127 (2^n's exponent bits) in the low bits. */
  magic: hexFloat("0x1.8000FEp23"),
  /** ln 2 = ln2High + ln2Low, ln2High with few significant bits so that n·ln2High is exact. */
  ln2High: hexFloat("0x1.62E400p-1"),
  ln2Low: hexFloat("0x1.7F7D1Cp-20"),
  /** e^−t ≈ 1 + t·(c1 + t·(c2 + t·(c3 + t·(c4 + t·c5)))) on |t| ≤ ln2/2 (a minimax fit, not Taylor's). */
  c5: hexFloat("-0x1.0F9F9Cp-7"),
  c4: hexFloat("0x1.573A1Ap-5"),
  c3: hexFloat("-0x1.555A80p-3"),
  c2: hexFloat("0x1.FFFDC6p-2"),
  c1: hexFloat("-0x1.FFFFF6p-1"),
  one: 1,
} as const;

const ELEMENTWISE_PARAMS = ["x", "out", "count"] as const;
const ELEMENTWISE_I32_LOCALS = ["end"] as const;
const ELEMENTWISE_V128_LOCALS = ["vx", "vn", "vs", "vt", ...Object.keys(EXP_CONSTANTS)];

/**
 * out[i] = numerator / (1 + e^−x) with x clamped to [−88, 87], four lanes at a time, i < count
 * (see the header): numerator 1 is σ(x), numerator x is swish(x). The constants are
 * splatted into locals once, before the loop.
 */
function elementwiseLoop(numerator: "one" | "x"): number[] {
  const e = new Emitter([...ELEMENTWISE_PARAMS, ...ELEMENTWISE_I32_LOCALS, ...ELEMENTWISE_V128_LOCALS]);
  const memarg = [4 /* align 2^4 (a hint) */, 0 /* offset */];
  for (const [local, value] of Object.entries(EXP_CONSTANTS)) e.splat(value).set(local);
  const f32x4 = (...opcodes: number[]) => {
    for (const opcode of opcodes) e.simd(opcode);
  };
  // end = x + count·4; nothing to do when count is 0
  e.get("x").get("count").const(2).raw(op.i32Shl, op.i32Add).set("end");
  e.raw(op.block, VOID_BLOCK);
  e.get("x").get("end").raw(op.i32LtU, 0x45 /* i32.eqz */, op.brIf, 0);
  e.raw(op.loop, VOID_BLOCK);
  // x = pmax(x, −88), pmax(a, b) = a < b ? b : a, so a NaN (as a) stays NaN
  e.get("x")
    .simd(simd.v128Load, ...memarg)
    .get("xMin");
  f32x4(simd.f32x4Pmax);
  e.set("vx");
  // the store's address, then the numerator (for swish x, clamped below only: x·σ(x) → x for large x)
  e.get("out").get(numerator === "x" ? "vx" : "one");
  // x = pmin(x, 87) for e^−x, pmin(a, b) = b < a ? b : a
  e.get("vx").get("xMax");
  f32x4(simd.f32x4Pmin);
  e.set("vx");
  // n = x·(−log2 e) + magic (rounded; n + 127 in the low bits); s = 2^n from those bits
  e.get("vx").get("minusLog2e");
  f32x4(simd.f32x4Mul);
  e.get("magic");
  f32x4(simd.f32x4Add);
  e.set("vn");
  e.get("vn").const(23).simd(simd.i32x4Shl).set("vs");
  // n −= magic (exact); t = x + n·ln2 in two steps (|t| ≤ ln2/2)
  e.get("vn").get("magic");
  f32x4(simd.f32x4Sub);
  e.set("vn");
  e.get("vn").get("ln2High");
  f32x4(simd.f32x4Mul);
  e.get("vx");
  f32x4(simd.f32x4Add);
  e.get("vn").get("ln2Low");
  f32x4(simd.f32x4Mul, simd.f32x4Add);
  e.set("vt");
  // p = c1 + t·(c2 + t·(c3 + t·(c4 + t·c5))) by Horner
  e.get("c5");
  for (const c of ["c4", "c3", "c2", "c1"]) {
    e.get("vt");
    f32x4(simd.f32x4Mul);
    e.get(c);
    f32x4(simd.f32x4Add);
  }
  // e^−x = s·(1 + t·p) = (t·s)·p + s; the value stored: numerator / (1 + e^−x)
  e.get("vt").get("vs");
  f32x4(simd.f32x4Mul, simd.f32x4Mul);
  e.get("vs");
  f32x4(simd.f32x4Add);
  e.get("one");
  f32x4(simd.f32x4Add, simd.f32x4Div);
  e.simd(simd.v128Store, ...memarg);
  for (const p of ["x", "out"]) e.get(p).const(16).raw(op.i32Add).set(p);
  e.get("x").get("end").raw(op.i32LtU, op.brIf, 0);
  e.raw(op.end, op.end, op.end);
  return functionBody(
    [
      [ELEMENTWISE_I32_LOCALS.length, I32],
      [ELEMENTWISE_V128_LOCALS.length, V128],
    ],
    e.code,
  );
}

const ADAM_I32_PARAMS = [...ADAM_POINTERS, "count"] as const;
const ADAM_I32_LOCALS = ["end"] as const;
const ADAM_V128_LOCALS = ["vg", "vm", "vv", ...ADAM_CONSTANTS.map((c) => `${c}4`)];

/**
 * Adam's update (update_kernels.ts ADAM_UPDATE, tfjs-core 4.22's AdamOptimizer in its order),
 * four lanes at a time, for i < count:
 *   m' = m·β₁ + g·(1 − β₁);  v' = v·β₂ + (g·g)·(1 − β₂)
 *   w' = ((m'/(1 − β₁ᵗ)) / (√(v'/(1 − β₂ᵗ)) + ε))·(−lr) + w
 * Each f32x4 add, sub, mul, div and sqrt is IEEE 754's correctly rounded float32 operation
 * (WebAssembly core spec 2.0, 4.3.3), as tfjs-backend-wasm's ops (XNNPACK) and ADAM_UPDATE's
 * Math.fround loop compute each one, so the result is theirs bit for bit. The scalars come as
 * f32 parameters, splatted once before the loop.
 */
function adamLoop(): number[] {
  const e = new Emitter([...ADAM_I32_PARAMS, ...ADAM_CONSTANTS, ...ADAM_I32_LOCALS, ...ADAM_V128_LOCALS]);
  const memarg = [4 /* align 2^4 (a hint) */, 0 /* offset */];
  const f32x4 = (...opcodes: number[]) => {
    for (const opcode of opcodes) e.simd(opcode);
  };
  const load = (pointer: string) => e.get(pointer).simd(simd.v128Load, ...memarg);
  for (const c of ADAM_CONSTANTS) e.get(c).simd(simd.f32x4Splat).set(`${c}4`);
  // end = variable + count·4; nothing to do when count is 0
  e.get("variable").get("count").const(2).raw(op.i32Shl, op.i32Add).set("end");
  e.raw(op.block, VOID_BLOCK);
  e.get("variable").get("end").raw(op.i32LtU, 0x45 /* i32.eqz */, op.brIf, 0);
  e.raw(op.loop, VOID_BLOCK);
  load("gradient").set("vg");
  // m' = m·β₁ + g·(1 − β₁), stored
  load("firstMoment").get("beta14");
  f32x4(simd.f32x4Mul);
  e.get("vg").get("oneMinusBeta14");
  f32x4(simd.f32x4Mul, simd.f32x4Add);
  e.set("vm");
  e.get("newFirstMoment")
    .get("vm")
    .simd(simd.v128Store, ...memarg);
  // v' = v·β₂ + (g·g)·(1 − β₂), stored
  load("secondMoment").get("beta24");
  f32x4(simd.f32x4Mul);
  e.get("vg").get("vg");
  f32x4(simd.f32x4Mul);
  e.get("oneMinusBeta24");
  f32x4(simd.f32x4Mul, simd.f32x4Add);
  e.set("vv");
  e.get("newSecondMoment")
    .get("vv")
    .simd(simd.v128Store, ...memarg);
  // w' = ((m'/(1 − β₁ᵗ)) / (√(v'/(1 − β₂ᵗ)) + ε))·(−lr) + w
  e.get("newVariable");
  e.get("vm").get("oneMinusAccBeta14");
  f32x4(simd.f32x4Div);
  e.get("vv").get("oneMinusAccBeta24");
  f32x4(simd.f32x4Div, simd.f32x4Sqrt);
  e.get("epsilon4");
  f32x4(simd.f32x4Add, simd.f32x4Div);
  e.get("minusLearningRate4");
  f32x4(simd.f32x4Mul);
  load("variable");
  f32x4(simd.f32x4Add);
  e.simd(simd.v128Store, ...memarg);
  for (const p of ADAM_POINTERS) e.get(p).const(16).raw(op.i32Add).set(p);
  e.get("variable").get("end").raw(op.i32LtU, op.brIf, 0);
  e.raw(op.end, op.end, op.end);
  return functionBody(
    [
      [ADAM_I32_LOCALS.length, I32],
      [ADAM_V128_LOCALS.length, V128],
    ],
    e.code,
  );
}

/** The module's functions: name, parameter types, and body. */
const FUNCTIONS: { name: keyof SimdLoops; params: readonly number[]; body: () => number[] }[] = [
  { name: "depthwiseFilterGradient", params: PARAMS.map(() => I32), body: () => depthwiseLoop(true) },
  { name: "depthwiseInputGradient", params: PARAMS.map(() => I32), body: () => depthwiseLoop(false) },
  { name: "sigmoid", params: ELEMENTWISE_PARAMS.map(() => I32), body: () => elementwiseLoop("one") },
  { name: "swish", params: ELEMENTWISE_PARAMS.map(() => I32), body: () => elementwiseLoop("x") },
  {
    name: "adam",
    params: [...ADAM_I32_PARAMS.map(() => I32), ...ADAM_CONSTANTS.map(() => F32)],
    body: adamLoop,
  },
];

/** The module: imports env.memory, exports the loops of FUNCTIONS. */
export function assembleSimdModule(): Uint8Array {
  const signature = (params: readonly number[]) => params.join(",");
  const types = [...new Map(FUNCTIONS.map((f) => [signature(f.params), f.params])).values()];
  const typeIndex = (params: readonly number[]) => types.findIndex((t) => signature(t) === signature(params));
  const functionType = (params: readonly number[]) => [0x60, ...vector(params.map((type) => [type])), ...vector([])];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // "\0asm", version 1
    ...section(1, vector(types.map(functionType))),
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02 /* memory */, 0x00 /* min only */, 0x00]])),
    ...section(3, vector(FUNCTIONS.map((f) => uleb(typeIndex(f.params))))),
    ...section(7, vector(FUNCTIONS.map((f, i) => [...name(f.name), 0x00 /* func */, ...uleb(i)]))),
    ...section(10, vector(FUNCTIONS.map((f) => f.body()))),
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
      const { depthwiseFilterGradient, depthwiseInputGradient, sigmoid, swish, adam } = instance.exports as Record<
        string,
        Loop
      >;
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
        sigmoid: (x, out, count) => sigmoid(x, out, count),
        swish: (x, out, count) => swish(x, out, count),
        adam: (pointers, count, constants) =>
          adam(...ADAM_POINTERS.map((p) => pointers[p]), count, ...ADAM_CONSTANTS.map((c) => constants[c])),
      };
    }
    instances.set(memory, loops);
  }
  return instances.get(memory) ?? undefined;
}
