import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels, restoreOriginalKernels } from './index.ts';

function rand(shape: number[], seed: number) { const n = shape.reduce((a,b)=>a*b,1); const a = new Float32Array(n); let s = seed>>>0; for (let i=0;i<n;i++){ s = (s*1664525+1013904223)>>>0; a[i] = s/4294967296*2-1;} return tf.tensor(a, shape); }
type Case = {name:string, x:number[], f:number[], s:number, pad:any, dw?:boolean};
const cases: Case[] = [
 {name:'3x3 s1 same', x:[2,16,16,4], f:[3,3,4,8], s:1, pad:'same'},
 {name:'3x3 s2 same', x:[2,16,16,4], f:[3,3,4,8], s:2, pad:'same'},
 {name:'3x3 s2 valid 15', x:[2,15,15,4], f:[3,3,4,8], s:2, pad:'valid'},
 {name:'5x5 s2 same 15', x:[2,15,15,4], f:[5,5,4,8], s:2, pad:'same'},
 {name:'explicit', x:[2,7,7,4], f:[3,3,4,8], s:2, pad:[[0,0],[1,2],[2,0],[0,0]]},
 {name:'dw 3x3 s1', x:[2,16,16,6], f:[3,3,6,1], s:1, pad:'same', dw:true},
 {name:'dw 3x3 s2 7', x:[2,7,7,6], f:[3,3,6,1], s:2, pad:'same', dw:true},
 {name:'dw 5x5 s2 15', x:[2,15,15,6], f:[5,5,6,1], s:2, pad:'same', dw:true},
 {name:'dw 3x3 s2 valid M2', x:[2,15,15,6], f:[3,3,6,2], s:2, pad:'valid', dw:true},
 {name:'dw explicit M3', x:[2,9,8,3], f:[3,3,3,3], s:2, pad:[[0,0],[2,0],[0,1],[0,0]], dw:true},
];
function grads(c: Case) {
  return tf.tidy(() => {
    const x = rand(c.x, 1) as tf.Tensor4D, f = rand(c.f, 2) as tf.Tensor4D;
    const fwd = (x: tf.Tensor4D, f: tf.Tensor4D) => c.dw ? tf.depthwiseConv2d(x, f, c.s, c.pad) : tf.conv2d(x, f, c.s, c.pad);
    const y = fwd(x,f); const r = rand(y.shape, 3);
    const g = tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(fwd(x as any, f as any), r)));
    return g([x, f]).map(t => t.dataSync() as Float32Array);
  });
}
function relErr(a: Float32Array, b: Float32Array) { let m=0, d=0; for (let i=0;i<a.length;i++){ m=Math.max(m,Math.abs(b[i])); d=Math.max(d,Math.abs(a[i]-b[i])); } return d/m; }
await tf.setBackend('cpu'); await tf.ready();
const ref = cases.map(grads);
registerTrainingKernels('cpu');
const cpuNew = cases.map(grads);
await tf.setBackend('wasm'); await tf.ready();
registerTrainingKernels('wasm');
const wasmNew = cases.map(c => { try { return grads(c); } catch (e) { console.log('ERR', c.name, (e as Error).message); return null; } });
cases.forEach((c,i) => console.log(c.name.padEnd(22), 'cpu dx', relErr(cpuNew[i][0], ref[i][0]).toExponential(2), 'dw', relErr(cpuNew[i][1], ref[i][1]).toExponential(2), wasmNew[i] ? ` wasm dx ${relErr(wasmNew[i]![0], ref[i][0]).toExponential(2)} dw ${relErr(wasmNew[i]![1], ref[i][1]).toExponential(2)}` : ''));
