#!/usr/bin/python3
"""Writes the Keras .h5 fixtures in tests/keras_api/testdata/h5/ with h5py (Debian's
python3-h5py), in Keras's documented layouts, from the TensorFlow.js models in ../tfjs/ whose
predictions TensorFlow.js computed (io.json there). Each fixture varies the layout the way real
Keras files do:

  mlp.h5         Keras 2: configs and names as fixed-length byte strings (json.dumps().encode())
  cnn.h5         configs and names as variable-length str; an optimizer_weights group
  cnn_flat.h5    layer_names and weight_names split into chunks (<name>0, <name>1, ...), the form
                 Keras uses for attributes over 64512 bytes
  functional.h5  a tf.keras "Functional" single-chain model
  cnn_keras3.h5  Keras 3's legacy .h5: keras_version 3.x, InputLayer with batch_shape, dtype
                 policies, weight names without ":0", Keras 3's training config

Run from the repository root: /usr/bin/python3 tests/keras_api/testdata/make_h5_fixtures.py
"""
import copy
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TFJS = os.path.join(HERE, 'tfjs')
OUT = os.path.join(HERE, 'h5')

OPTIMIZER_KEYS = {'learningRate': 'learning_rate', 'beta1': 'beta_1', 'beta2': 'beta_2',
                  'useNesterov': 'nesterov'}


def load_tfjs(name):
    d = os.path.join(TFJS, name)
    with open(os.path.join(d, 'model.json')) as f:
        model = json.load(f)
    data = b''
    specs = []
    for group in model['weightsManifest']:
        for p in group['paths']:
            with open(os.path.join(d, p), 'rb') as f:
                data += f.read()
        specs += group['weights']
    weights, at = {}, 0
    for s in specs:
        n = int(np.prod(s['shape'])) if s['shape'] else 1
        if s.get('group') != 'optimizer':
            weights[s['name']] = np.frombuffer(data, '<f4', n, at).reshape(s['shape'])
        at += 4 * n
    topology = {k: v for k, v in model['modelTopology'].items() if k in ('class_name', 'config')}
    return topology, model.get('trainingConfig'), weights


def keras_training_config(tc):
    """TensorFlow.js's trainingConfig in Keras 2's spelling."""
    if tc is None:
        return None
    opt = tc['optimizer_config']
    name = {'RMSProp': 'RMSprop', 'Momentum': 'SGD'}.get(opt['class_name'], opt['class_name'])
    config = {'name': name}
    for k, v in opt['config'].items():
        if name == 'RMSprop' and k == 'decay':
            k = 'rho'
        config[OPTIMIZER_KEYS.get(k, k)] = v
    metrics = tc.get('metrics') or []
    return {'loss': tc['loss'], 'metrics': list(metrics), 'weighted_metrics': None, 'loss_weights': None,
            'optimizer_config': {'class_name': name, 'config': config}}


def weight_order(layer):
    cls, c = layer['class_name'], layer['config']
    if cls in ('Dense', 'Conv2D'):
        return ['kernel', 'bias'] if c.get('use_bias', True) else ['kernel']
    if cls == 'BatchNormalization':
        return (['gamma'] if c.get('scale', True) else []) + (['beta'] if c.get('center', True) else []) + \
            ['moving_mean', 'moving_variance']
    return []


def text(value, variable):
    """A string attribute value: h5py writes str as variable-length, bytes as fixed-length."""
    return value if variable else value.encode('utf8')


def names(values, variable):
    if variable:
        return np.array(values, dtype=h5py.string_dtype('utf-8'))
    return np.array([v.encode('utf8') for v in values])  # numpy "S<n>", as Keras 2


def put_names(group, attr, values, variable, chunks):
    if chunks <= 1:
        group.attrs[attr] = names(values, variable) if values else np.array([])
        return
    for i, part in enumerate(np.array_split(np.array(values, dtype=object), chunks)):
        group.attrs['%s%d' % (attr, i)] = names(list(part), variable)


def write(path, topology, training, weights, keras_version, variable=False, chunks=1, colon=True,
          optimizer_group=False):
    with h5py.File(path, 'w') as f:
        f.attrs['keras_version'] = keras_version
        f.attrs['backend'] = 'tensorflow'
        f.attrs['model_config'] = text(json.dumps(topology), variable)
        if training is not None:
            f.attrs['training_config'] = text(json.dumps(training), variable)
        mw = f.create_group('model_weights')
        layers = topology['config']['layers']
        put_names(mw, 'layer_names', [l['config']['name'] for l in layers], variable, chunks)
        mw.attrs['backend'] = 'tensorflow'
        mw.attrs['keras_version'] = keras_version
        for layer in layers:
            name = layer['config']['name']
            g = mw.create_group(name)
            wn = []
            for w in weight_order(layer):
                full = name + '/' + w + (':0' if colon else '')
                g.create_dataset(full, data=weights[name + '/' + w].astype('<f4'))
                wn.append(full)
            put_names(g, 'weight_names', wn, variable, chunks if len(wn) > 1 else 1)
        if optimizer_group:
            og = f.create_group('optimizer_weights')
            og.attrs['weight_names'] = np.array([b'Adam/iter:0'])
            og.create_dataset('Adam/iter:0', data=np.int64(3))


def keras3(topology):
    """TensorFlow.js's Sequential config as Keras 3 writes a Sequential's config."""
    t = copy.deepcopy(topology)
    layers = t['config']['layers']
    first = layers[0]['config']
    shape = first.pop('batch_input_shape')
    for layer in layers:
        layer['module'] = 'keras.layers'
        layer['registered_name'] = None
        layer['config']['dtype'] = {'module': 'keras', 'class_name': 'DTypePolicy',
                                    'config': {'name': 'float32'}, 'registered_name': None}
    layers.insert(0, {'module': 'keras.layers', 'class_name': 'InputLayer', 'registered_name': None,
                      'config': {'batch_shape': shape, 'dtype': 'float32', 'sparse': False,
                                 'name': 'input_layer'}})
    t['config']['build_input_shape'] = shape
    return t


def main():
    os.makedirs(OUT, exist_ok=True)
    topo, tc, w = load_tfjs('mlp')
    write(os.path.join(OUT, 'mlp.h5'), topo, keras_training_config(tc), w, '2.13.1')
    topo, tc, w = load_tfjs('cnn')
    write(os.path.join(OUT, 'cnn.h5'), topo, keras_training_config(tc), w, '2.13.1', variable=True,
          optimizer_group=True)
    k3 = keras_training_config(tc)
    k3['optimizer_config']['config'].update({'name': 'sgd', 'weight_decay': None, 'clipnorm': None,
                                             'use_ema': False, 'ema_momentum': 0.99, 'loss_scale_factor': None})
    k3.update({'run_eagerly': False, 'steps_per_execution': 1, 'jit_compile': False})
    write(os.path.join(OUT, 'cnn_keras3.h5'), keras3(topo), k3, w, '3.3.3', variable=True, colon=False)
    topo, tc, w = load_tfjs('cnn_flat')
    write(os.path.join(OUT, 'cnn_flat.h5'), topo, keras_training_config(tc), w, '2.13.1', chunks=3)
    topo, tc, w = load_tfjs('functional')
    topo['class_name'] = 'Functional'
    write(os.path.join(OUT, 'functional.h5'), topo, keras_training_config(tc), w, '2.13.1')


if __name__ == '__main__':
    main()
