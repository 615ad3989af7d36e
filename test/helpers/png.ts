import pngjs from "pngjs";

/** A real 2×2 PNG whose IHDR then claims `width`×`height` (issue 15: a 110 KB file claiming 30000×30000 took 14 GB). */
export function pngClaiming(width: number, height: number): Uint8Array {
  const png = new pngjs.PNG({ width: 2, height: 2 });
  png.data.fill(128);
  const bytes = new Uint8Array(pngjs.PNG.sync.write(png));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}
