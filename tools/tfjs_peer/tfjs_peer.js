#!/usr/bin/env node
// TensorFlow.js Layers (pure-JavaScript CPU backend) as the reference Keras implementation for
// Horn's model-file tests: it trains models and saves them, and loads Horn's and predicts.
//
//   node tfjs_peer.js make-fixtures OUT_DIR
//       trains an MLP (several activations), small CNNs (Conv2D, pooling, BatchNormalization,
//       ZeroPadding2D, Reshape, Flatten, Dropout) and a single-chain functional model; writes OUT_DIR/<model>/model.json,
//       group1-shard1of1.bin and io.json ({"x": {shape, data}, "y": {shape, data}}: inputs and
//       TensorFlow.js's predictions)
//   node tfjs_peer.js predict MODEL_DIR IN_JSON OUT_JSON
//       loads MODEL_DIR/model.json, predicts IN_JSON's "x", writes {"x", "y"} to OUT_JSON
//   node tfjs_peer.js load-train MODEL_DIR IN_JSON
//       loads the model, checks that its training config compiled it, and runs one training
//       step on IN_JSON's "x" and "y": TensorFlow.js can continue training a Horn model
//
// Pure JavaScript has no file:// handler: io.withSaveHandler and io.fromMemory write and read
// the layout tfjs-node's file handler and the converter use.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const SHARD = 'group1-shard1of1.bin';

function fileWriter(dir) {
  return tf.io.withSaveHandler(async (artifacts) => {
    fs.mkdirSync(dir, {recursive: true});
    fs.writeFileSync(path.join(dir, SHARD), Buffer.from(artifacts.weightData));
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: [SHARD], weights: artifacts.weightSpecs}],
    };
    if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  });
}

function fileReader(dir) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: specs,
    weightData,
    trainingConfig: modelJson.trainingConfig,
  });
}

function tensorJson(t) {
  return {shape: t.shape, data: Array.from(t.dataSync())};
}

function readTensor(j) {
  return tf.tensor(j.data, j.shape, 'float32');
}

function oneHot(n, classes, seed) {
  const labels = [];
  for (let i = 0; i < n; ++i) labels.push((i * 7 + seed) % classes);
  return tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
}

async function save(model, x, dir) {
  await model.save(fileWriter(dir), {includeOptimizer: true});
  const y = model.predict(x);
  fs.writeFileSync(path.join(dir, 'io.json'), JSON.stringify({x: tensorJson(x), y: tensorJson(y)}));
}

async function makeMlp(dir) {
  const model = tf.sequential({name: 'tfjs_mlp'});
  model.add(tf.layers.dense({units: 16, inputShape: [6], activation: 'tanh'}));
  model.add(tf.layers.dense({units: 12, activation: 'relu', kernelInitializer: 'heNormal'}));
  model.add(tf.layers.dropout({rate: 0.25}));
  model.add(tf.layers.dense({units: 10, activation: 'elu'}));
  model.add(tf.layers.dense({units: 8, activation: 'selu', kernelInitializer: 'leCunNormal'}));
  model.add(tf.layers.dense({units: 8, activation: 'softplus'}));
  model.add(tf.layers.activation({activation: 'softsign'}));
  model.add(tf.layers.dense({units: 8, activation: 'hardSigmoid'}));
  model.add(tf.layers.dense({units: 6, activation: 'sigmoid', useBias: false}));
  model.add(tf.layers.dense({units: 4, activation: 'softmax'}));
  model.compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy']});
  const x = tf.randomNormal([64, 6], 0, 1, 'float32', 7);
  await model.fit(x, oneHot(64, 4, 1), {epochs: 3, batchSize: 16, verbose: 0});
  await save(model, x.slice([0, 0], [8, 6]), dir);
}

// A functional model that is a single chain (what tf.model() and Keras's functional API write).
async function makeFunctional(dir) {
  const input = tf.input({shape: [5], name: 'features'});
  const h = tf.layers.dense({units: 7, activation: 'relu', name: 'hidden'}).apply(input);
  const out = tf.layers.dense({units: 3, activation: 'softmax', name: 'probs'}).apply(h);
  const model = tf.model({inputs: input, outputs: out, name: 'tfjs_functional'});
  model.compile({optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy'});
  const x = tf.randomNormal([24, 5], 0, 1, 'float32', 9);
  await model.fit(x, oneHot(24, 3, 0), {epochs: 2, batchSize: 8, verbose: 0});
  await save(model, x.slice([0, 0], [5, 5]), dir);
}

async function makeCnn(dir) {
  const model = tf.sequential({name: 'tfjs_cnn'});
  model.add(tf.layers.conv2d({filters: 4, kernelSize: 3, inputShape: [10, 10, 2], activation: 'relu'}));
  model.add(tf.layers.batchNormalization({momentum: 0.9}));
  model.add(tf.layers.zeroPadding2d({padding: [[1, 0], [0, 2]]}));
  model.add(tf.layers.maxPooling2d({poolSize: 2}));
  model.add(tf.layers.conv2d({filters: 6, kernelSize: [2, 3], strides: [1, 2], padding: 'same', useBias: false}));
  model.add(tf.layers.batchNormalization({epsilon: 0.01}));
  model.add(tf.layers.activation({activation: 'relu'}));
  model.add(tf.layers.averagePooling2d({poolSize: [2, 2], strides: 1, padding: 'same'}));
  model.add(tf.layers.conv2d({filters: 5, kernelSize: 1}));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dropout({rate: 0.1}));
  model.add(tf.layers.dense({units: 3, activation: 'softmax'}));
  model.compile({optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy']});
  const x = tf.randomUniform([32, 10, 10, 2], -1, 1, 'float32', 11);
  await model.fit(x, oneHot(32, 3, 2), {epochs: 3, batchSize: 8, verbose: 0});
  await save(model, x.slice([0, 0, 0, 0], [6, 10, 10, 2]), dir);

  // A second CNN: Flatten, GlobalMaxPooling is covered by the pooled branch; this one ends
  // in Flatten + Dense and uses RMSprop.
  const flat = tf.sequential({name: 'tfjs_cnn_flat'});
  flat.add(tf.layers.conv2d({filters: 3, kernelSize: 2, inputShape: [6, 5, 1], activation: 'tanh'}));
  flat.add(tf.layers.maxPooling2d({poolSize: [2, 2], strides: [1, 1]}));
  flat.add(tf.layers.reshape({targetShape: [4, 3, 3]}));
  flat.add(tf.layers.flatten());
  flat.add(tf.layers.dense({units: 2, activation: 'linear'}));
  flat.compile({optimizer: tf.train.rmsprop(0.01), loss: 'meanSquaredError'});
  const x2 = tf.randomNormal([16, 6, 5, 1], 0, 1, 'float32', 3);
  await flat.fit(x2, tf.randomNormal([16, 2], 0, 1, 'float32', 4), {epochs: 2, batchSize: 8, verbose: 0});
  await save(flat, x2.slice([0, 0, 0, 0], [4, 6, 5, 1]), dir + '_flat');

  const gmax = tf.sequential({name: 'tfjs_cnn_gmax'});
  gmax.add(tf.layers.conv2d({filters: 3, kernelSize: 3, inputShape: [7, 7, 3], padding: 'same',
                             dilationRate: 2, activation: 'sigmoid'}));
  gmax.add(tf.layers.globalMaxPooling2d({}));
  gmax.add(tf.layers.dense({units: 2}));
  await save(gmax, tf.randomNormal([3, 7, 7, 3], 0, 1, 'float32', 5), dir + '_gmax');
}

async function main() {
  await tf.setBackend('cpu');
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'make-fixtures') {
    await makeMlp(path.join(args[0], 'mlp'));
    await makeCnn(path.join(args[0], 'cnn'));
    await makeFunctional(path.join(args[0], 'functional'));
  } else if (cmd === 'predict') {
    const model = await tf.loadLayersModel(fileReader(args[0]));
    const input = JSON.parse(fs.readFileSync(args[1], 'utf8'));
    const x = readTensor(input.x);
    fs.writeFileSync(args[2], JSON.stringify({x: tensorJson(x), y: tensorJson(model.predict(x))}));
  } else if (cmd === 'load-train') {
    const model = await tf.loadLayersModel(fileReader(args[0]));
    if (model.optimizer == null) throw new Error('the training config did not compile the model');
    const input = JSON.parse(fs.readFileSync(args[1], 'utf8'));
    const h = await model.fit(readTensor(input.x), readTensor(input.y), {epochs: 1, verbose: 0});
    if (!Number.isFinite(h.history.loss[0])) throw new Error('training gave loss ' + h.history.loss[0]);
    console.log(model.optimizer.getClassName(), 'loss', h.history.loss[0]);
  } else {
    throw new Error('usage: tfjs_peer.js make-fixtures DIR | predict MODEL_DIR IN OUT | load-train MODEL_DIR IN');
  }
}

main().catch((e) => {
  console.error('tfjs_peer:', e.message || e);
  process.exit(1);
});
