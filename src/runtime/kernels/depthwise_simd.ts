/**
 * tfjs-backend-wasm kernels for a depthwise convolution's filter and input gradients that
 * run the WebAssembly SIMD loops of simd_loops.ts on the tensors in place.
 *
 * They take the common case — float32, NHWC, channel multiplier 1, undilated, channels a
 * multiple of 4, dy of the forward output's size — and hand anything else to the tfjs-op
 * kernels (depthwise_backprop_filter.ts 'pooledTaps', depthwise_backprop_input.ts), as
 * they do where WebAssembly SIMD is unavailable.
 *
 * Memory: the output is the only allocation (the tfjs-op filter gradient built patch
 * matrices and per-tap products, bounded per chunk of images by chunks.ts).
 * Measured on EfficientNet-B0's shapes, batch 4 (bench/kernels.ts has the table).
 */
import type {
  DataId,
  DataType,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelFunc,
  TensorInfo,
} from "@tensorflow/tfjs";
import { assertNoDilation, computeWindowGeometry } from "./geometry.ts";
import { simdLoopsFor, type DepthwiseShape, type SimdLoops, type WasmMemory } from "./simd_loops.ts";

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackend {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

type Shape4D = [number, number, number, number];
type Geometry = { strides: number | [number, number]; pad: DepthwiseConv2dNativeBackpropFilterAttrs["pad"] };

/** The loops and the convolution's shape, or undefined where the SIMD kernels do not apply. */
function simdCase(
  backend: WasmBackend,
  inputShape: Shape4D,
  filterShape: Shape4D,
  dy: TensorInfo,
  attrs: Geometry & { dimRoundingMode?: "floor" | "round" | "ceil" },
  dtypes: readonly DataType[],
): { loops: SimdLoops; shape: DepthwiseShape } | undefined {
  const [, , channels, multiplier] = filterShape;
  if (multiplier !== 1 || channels % 4 !== 0 || dtypes.some((d) => d !== "float32")) return undefined;
  const loops = simdLoopsFor(backend.wasm.asm?.memory);
  if (!loops) return undefined;
  const g = computeWindowGeometry(inputShape, filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, true);
  const expected = [g.batchSize, g.outHeight, g.outWidth, channels];
  if (dy.shape.some((d, i) => d !== expected[i]) || g.inChannels !== channels) return undefined;
  return {
    loops,
    shape: {
      batch: g.batchSize,
      inHeight: g.inHeight,
      inWidth: g.inWidth,
      channels,
      outHeight: g.outHeight,
      outWidth: g.outWidth,
      filterHeight: g.filterHeight,
      filterWidth: g.filterWidth,
      strideHeight: g.strideHeight,
      strideWidth: g.strideWidth,
      padTop: g.padTop,
      padLeft: g.padLeft,
    },
  };
}

/** A zeroed float32 output and the byte offsets of it and the inputs. */
function zeroedOutput(backend: WasmBackend, shape: number[], inputs: TensorInfo[]) {
  const out = backend.makeOutput(shape, "float32");
  backend.typedArrayFromHeap(out).fill(0);
  const offset = (info: TensorInfo) => backend.dataIdMap.get(info.dataId).memoryOffset;
  return { out, offsets: [...inputs.map(offset), offset(out)] };
}

export function makeSimdDepthwiseBackpropFilter(fallback: KernelFunc): KernelFunc {
  function depthwiseBackpropFilter(args: {
    inputs: { x: TensorInfo; dy: TensorInfo };
    backend: WasmBackend;
    attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
  }): TensorInfo {
    const { inputs, backend, attrs } = args;
    assertNoDilation("DepthwiseConv2dNativeBackpropFilter", attrs.dilations);
    const { x, dy } = inputs;
    const filterShape = attrs.filterShape as Shape4D;
    const simd = simdCase(backend, x.shape as Shape4D, filterShape, dy, attrs, [x.dtype, dy.dtype]);
    if (!simd) return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const { out, offsets } = zeroedOutput(backend, filterShape, [x, dy]);
    const [xOffset, dyOffset, outOffset] = offsets;
    simd.loops.depthwiseFilterGradient(xOffset, dyOffset, outOffset, simd.shape);
    return out;
  }
  return depthwiseBackpropFilter as unknown as KernelFunc;
}

export function makeSimdDepthwiseBackpropInput(fallback: KernelFunc): KernelFunc {
  function depthwiseBackpropInput(args: {
    inputs: { dy: TensorInfo; filter: TensorInfo };
    backend: WasmBackend;
    attrs: DepthwiseConv2dNativeBackpropInputAttrs;
  }): TensorInfo {
    const { inputs, backend, attrs } = args;
    assertNoDilation("DepthwiseConv2dNativeBackpropInput", attrs.dilations);
    const { dy, filter } = inputs;
    const inputShape = attrs.inputShape as Shape4D;
    const simd = simdCase(backend, inputShape, filter.shape as Shape4D, dy, attrs, [dy.dtype, filter.dtype]);
    if (!simd) return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const { out, offsets } = zeroedOutput(backend, inputShape, [filter, dy]);
    const [filterOffset, dyOffset, outOffset] = offsets;
    simd.loops.depthwiseInputGradient(filterOffset, dyOffset, outOffset, simd.shape);
    return out;
  }
  return depthwiseBackpropInput as unknown as KernelFunc;
}
