import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './index.ts';
await tf.setBackend('wasm'); await tf.ready();
registerTrainingKernels('wasm');
const m = tf.sequential();
m.add(tf.layers.conv2d({inputShape:[16,16,3], filters:8, kernelSize:3, strides:2, padding:'same', useBias:false}));
m.add(tf.layers.batchNormalization());
m.add(tf.layers.activation({activation:'swish'}));
m.add(tf.layers.depthwiseConv2d({kernelSize:3, padding:'same', useBias:true}));
m.add(tf.layers.batchNormalization());
m.add(tf.layers.reLU({maxValue:6}));
m.add(tf.layers.conv2d({filters:8, kernelSize:1, activation:'relu6'}));
m.add(tf.layers.activation({activation:'sigmoid'}));
m.add(tf.layers.averagePooling2d({poolSize:2}));
m.add(tf.layers.maxPooling2d({poolSize:2}));
m.add(tf.layers.globalAveragePooling2d({}));
m.add(tf.layers.dropout({rate:0.2}));
m.add(tf.layers.dense({units:4, activation:'softmax'}));
for (const loss of ['categoricalCrossentropy','sparseCategoricalCrossentropy']) {
for (const opt of [tf.train.adam(1e-3), tf.train.sgd(0.1), tf.train.rmsprop(1e-3), tf.train.momentum(0.1,0.9)]) {
m.compile({optimizer: opt, loss, metrics:['accuracy']});
const x = tf.randomNormal([8,16,16,3]); const labels = tf.tensor1d([0,1,2,3,0,1,2,3],'int32');
const y = loss.startsWith('sparse') ? labels.cast('float32').expandDims(1) : tf.oneHot(labels,4);
try { const h = await m.fit(x,y,{epochs:2,batchSize:4, verbose:0, validationSplit:0.25}); console.log(loss, h.history.loss); } catch(e) { console.log('ERR', (e as Error).message); }
}}
// functional-style squeeze-excite with multiply
const inp = tf.input({shape:[8,8,4]});
const se = tf.layers.globalAveragePooling2d({}).apply(inp) as tf.SymbolicTensor;
const se2 = tf.layers.reshape({targetShape:[1,1,4]}).apply(se) as tf.SymbolicTensor;
const se3 = tf.layers.conv2d({filters:4,kernelSize:1,activation:'sigmoid'}).apply(se2) as tf.SymbolicTensor;
const mul = tf.layers.multiply().apply([inp, se3]) as tf.SymbolicTensor;
const add = tf.layers.add().apply([inp, mul]) as tf.SymbolicTensor;
const out = tf.layers.dense({units:2, activation:'softmax'}).apply(tf.layers.flatten().apply(add)) as tf.SymbolicTensor;
const fm = tf.model({inputs:inp, outputs:out}); fm.compile({optimizer:'adam', loss:'categoricalCrossentropy'});
try { const h = await fm.fit(tf.randomNormal([4,8,8,4]), tf.oneHot(tf.tensor1d([0,1,0,1],'int32'),2), {epochs:2, verbose:0}); console.log('SE', h.history.loss);} catch(e) { console.log('ERR', (e as Error).message); }
