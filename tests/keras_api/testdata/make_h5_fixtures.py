#!/usr/bin/python3
"""Writes the Keras .h5 fixtures in tests/keras_api/testdata/h5/ and the Keras 3 .keras fixtures
in tests/keras_api/testdata/keras/ with h5py (Debian's python3-h5py) and Python's zipfile, in
Keras's documented layouts, from the TensorFlow.js models in ../tfjs/ whose predictions
TensorFlow.js computed (io.json there). Each fixture varies the layout the way real Keras files
do:

  mlp.h5         Keras 2: configs and names as fixed-length byte strings (json.dumps().encode())
  cnn.h5         configs and names as variable-length str; an optimizer_weights group
  cnn_flat.h5    layer_names and weight_names split into chunks (<name>0, <name>1, ...), the form
                 Keras uses for attributes over 64512 bytes
  functional.h5  a tf.keras "Functional" single-chain model
  cnn_keras3.h5  Keras 3's legacy .h5: keras_version 3.x, InputLayer with batch_shape, dtype
                 policies, weight names without ":0", Keras 3's training config, layer_names
                 without the InputLayer (Keras 3's model.layers), an empty
                 top_level_model_weights group

.keras files (zips of metadata.json, config.json, model.weights.h5; keras/src/saving/saving_lib.py):
  cnn.keras             Keras 3.6: an InputLayer first, every layer a {module, class_name, config,
                        registered_name, build_config} object, dtype policies, Keras 3 initializers,
                        compile_config with a serialized SGD; entries stored; a vars group for
                        every layer (empty ones too) and for the model, optimizer variables
  cnn_flat.keras        current Keras 3: no InputLayer (the input shape only in build configs), entries
                        deflated, vars groups only for layers with weights, each with a "name"
                        attribute; compile_config with the optimizer as a name ("rmsprop") and
                        the loss as a serialized object
  functional.keras      a Keras 3 Functional model (inbound nodes with keras_history)
  mlp_keras213.keras    tf.keras 2.13's .keras: weights under _layer_checkpoint_dependencies,
                        Keras 2's hard_sigmoid (keras_version 2.13.1)

Run from the repository root: /usr/bin/python3 tests/keras_api/testdata/make_h5_fixtures.py
"""
import copy
import io
import json
import os
import re
import zipfile

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
          optimizer_group=False, keras3_groups=False):
    with h5py.File(path, 'w') as f:
        f.attrs['keras_version'] = keras_version
        f.attrs['backend'] = 'tensorflow'
        f.attrs['model_config'] = text(json.dumps(topology), variable)
        if training is not None:
            f.attrs['training_config'] = text(json.dumps(training), variable)
        mw = f.create_group('model_weights')
        layers = topology['config']['layers']
        if keras3_groups:
            layers = [l for l in layers if l['class_name'] != 'InputLayer']
            mw.create_group('top_level_model_weights').attrs['weight_names'] = np.array([])
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


def snake_case(name):
    """Keras's naming.to_snake_case, which names a layer's group in model.weights.h5."""
    name = re.sub(r'\W+', '', name)
    name = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


def output_shape(layer, shape):
    """The output shape (batch included) of the layer types in the TensorFlow.js fixtures."""
    cls, c = layer['class_name'], layer['config']
    pair = lambda v: list(v) if isinstance(v, list) else [v, v]
    if cls == 'Dense':
        return shape[:-1] + [c['units']]
    if cls in ('Conv2D', 'MaxPooling2D', 'AveragePooling2D'):
        k = pair(c['kernel_size'] if cls == 'Conv2D' else c['pool_size'])
        s = pair(c.get('strides') or k)
        out = [(n + s[i] - 1) // s[i] if c.get('padding') == 'same' else (n - k[i]) // s[i] + 1
               for i, n in enumerate(shape[1:3])]
        return [None] + out + [c['filters'] if cls == 'Conv2D' else shape[3]]
    if cls == 'ZeroPadding2D':
        p = c['padding']
        p = [[p, p], [p, p]] if isinstance(p, int) else [pair(x) for x in p]
        return [None, shape[1] + sum(p[0]), shape[2] + sum(p[1]), shape[3]]
    if cls in ('GlobalAveragePooling2D', 'GlobalMaxPooling2D'):
        return [None, shape[3]]
    if cls == 'Flatten':
        return [None, int(np.prod(shape[1:]))]
    if cls == 'Reshape':
        return [None] + list(c['target_shape'])
    return shape


def keras3_initializer(init):
    """Keras 3's initializer object; its VarianceScaling knows no "normal" distribution."""
    c = dict(init['config'])
    cls = init['class_name']
    if cls == 'VarianceScaling' and c.get('scale') == 1 and c.get('mode') == 'fan_avg':
        cls, c = ('GlorotNormal' if c['distribution'] == 'normal' else 'GlorotUniform'), {'seed': None}
    return {'module': 'keras.initializers', 'class_name': cls, 'config': c, 'registered_name': None}


def keras3_layer(layer, shape, policy=True):
    """A TensorFlow.js layer config as Keras 3's serialize_keras_object writes it."""
    c = dict(layer['config'])
    c.pop('batch_input_shape', None)
    if policy:
        c['dtype'] = {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'},
                      'registered_name': None}
    for k in list(c):
        if k.endswith('_initializer'):
            c[k] = keras3_initializer(c[k])
    out = {'module': 'keras.layers', 'class_name': layer['class_name'], 'config': c, 'registered_name': None}
    if shape is not None:
        out['build_config'] = {'input_shape': shape}
    return out


def keras3_weights(f, layers, weights, root='layers', empty_groups=True, name_attrs=False):
    """model.weights.h5: <root>/<snake-case class, made unique>/vars/<i>, trainable first."""
    used = {}
    if empty_groups:
        f.create_group('vars')
    for layer in layers:
        base = snake_case(layer['class_name'])
        used[base] = used[base] + 1 if base in used else 0
        path = base if used[base] == 0 else '%s_%d' % (base, used[base])
        order = weight_order(layer)
        if not order and not empty_groups:
            continue
        g = f.create_group('%s/%s/vars' % (root, path))
        if name_attrs:
            g.attrs['name'] = layer['config']['name']
        for i, w in enumerate(order):
            g.create_dataset(str(i), data=weights[layer['config']['name'] + '/' + w].astype('<f4'))


def write_keras(path, config, weights_layers, weights, keras_version, compression=zipfile.ZIP_STORED,
                **weight_options):
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        keras3_weights(f, weights_layers, weights, **weight_options)
    metadata = {'keras_version': keras_version, 'date_saved': '2026-11-29@12:00:00'}
    write_zip(path, [('metadata.json', json.dumps(metadata)), ('config.json', json.dumps(config)),
                     ('model.weights.h5', buf.getvalue())], compression)


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    """A zip with fixed entry dates, so that the fixtures are reproducible."""
    with zipfile.ZipFile(path, 'w') as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 29, 12, 0, 0)), data, compression)


def keras3_sequential(topology, with_input_layer=True):
    layers = topology['config']['layers']
    shape = layers[0]['config']['batch_input_shape']
    out = []
    if with_input_layer:
        out.append({'module': 'keras.layers', 'class_name': 'InputLayer', 'registered_name': None,
                    'config': {'batch_shape': shape, 'dtype': 'float32', 'sparse': False, 'name': 'input_layer'}})
    for layer in layers:
        out.append(keras3_layer(layer, shape))
        shape = output_shape(layer, shape)
    first = out[0]['config'] if with_input_layer else out[0]['build_config']
    config = {'name': topology['config'].get('name', 'sequential'), 'trainable': True, 'layers': out,
              'dtype': out[1 if with_input_layer else 0]['config']['dtype']}
    input_shape = first['batch_shape'] if with_input_layer else first['input_shape']
    if with_input_layer:
        config['build_input_shape'] = input_shape
    return {'module': 'keras', 'class_name': 'Sequential', 'config': config, 'registered_name': None,
            'build_config': {'input_shape': input_shape}}


def optimizer_object(tc):
    opt = keras_training_config(tc)['optimizer_config']
    c = dict(opt['config'], name=opt['class_name'].lower(), weight_decay=None, clipnorm=None,
             global_clipnorm=None, clipvalue=None, use_ema=False, ema_momentum=0.99,
             ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None)
    return {'module': 'keras.optimizers', 'class_name': opt['class_name'], 'config': c, 'registered_name': None}


def compile_config(optimizer, loss, metrics):
    return {'optimizer': optimizer, 'loss': loss, 'loss_weights': None, 'metrics': metrics,
            'weighted_metrics': None, 'run_eagerly': False, 'steps_per_execution': 1, 'jit_compile': False}


def write_keras_fixtures():
    out = os.path.join(HERE, 'keras')
    os.makedirs(out, exist_ok=True)
    topo, tc, w = load_tfjs('cnn')
    config = keras3_sequential(topo)
    config['compile_config'] = compile_config(optimizer_object(tc), 'categorical_crossentropy', ['accuracy'])
    write_keras(os.path.join(out, 'cnn.keras'), config, topo['config']['layers'], w, '3.6.0')
    # Keras also saves the optimizer's variables; Horn starts training afresh without them.
    with zipfile.ZipFile(os.path.join(out, 'cnn.keras')) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    buf = io.BytesIO(entries['model.weights.h5'])
    with h5py.File(buf, 'a') as f:
        f.create_dataset('optimizer/vars/0', data=np.int64(7))
        f.create_dataset('optimizer/vars/1', data=np.float32(0.05))
    entries['model.weights.h5'] = buf.getvalue()
    write_zip(os.path.join(out, 'cnn.keras'), list(entries.items()))

    topo, tc, w = load_tfjs('cnn_flat')
    config = keras3_sequential(topo, with_input_layer=False)
    loss = {'module': 'keras.losses', 'class_name': 'MeanSquaredError', 'registered_name': None,
            'config': {'name': 'mean_squared_error', 'reduction': 'sum_over_batch_size'}}
    config['compile_config'] = compile_config('rmsprop', loss, [])
    write_keras(os.path.join(out, 'cnn_flat.keras'), config, topo['config']['layers'], w, '3.10.0',
                compression=zipfile.ZIP_DEFLATED, empty_groups=False, name_attrs=True)

    topo, tc, w = load_tfjs('functional')
    layers, previous = [], None
    shape = topo['config']['layers'][0]['config']['batch_input_shape']
    for layer in topo['config']['layers']:
        if layer['class_name'] == 'InputLayer':
            k = {'module': 'keras.layers', 'class_name': 'InputLayer', 'registered_name': None,
                 'config': {'batch_shape': shape, 'dtype': 'float32', 'sparse': False, 'name': layer['name']},
                 'name': layer['name'], 'inbound_nodes': []}
        else:
            k = keras3_layer(layer, shape)
            k['name'] = layer['name']
            k['inbound_nodes'] = [{'args': [{'class_name': '__keras_tensor__', 'config': {
                'shape': shape, 'dtype': 'float32', 'keras_history': [previous, 0, 0]}}], 'kwargs': {}}]
            shape = output_shape(layer, shape)
        layers.append(k)
        previous = layer['name']
    config = {'module': 'keras.src.models.functional', 'class_name': 'Functional', 'registered_name': 'Functional',
              'config': {'name': topo['config']['name'], 'trainable': True, 'layers': layers,
                         'input_layers': [layers[0]['name'], 0, 0], 'output_layers': [layers[-1]['name'], 0, 0]},
              'build_config': {'input_shape': None}}
    loss = {'module': 'keras.losses', 'class_name': 'CategoricalCrossentropy', 'registered_name': None,
            'config': {'name': 'categorical_crossentropy', 'reduction': 'sum_over_batch_size',
                       'from_logits': False, 'label_smoothing': 0.0, 'axis': -1}}
    config['compile_config'] = compile_config(optimizer_object(tc), loss, [])
    write_keras(os.path.join(out, 'functional.keras'), config, topo['config']['layers'], w, '3.6.0')

    topo, tc, w = load_tfjs('mlp')
    layers = []
    for layer in topo['config']['layers']:
        k = keras3_layer(layer, None, policy=False)
        if 'batch_input_shape' in layer['config']:
            k['config']['batch_input_shape'] = layer['config']['batch_input_shape']
        layers.append(k)
    config = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None,
              'config': {'name': topo['config']['name'], 'layers': layers}}
    config['compile_config'] = compile_config(optimizer_object(tc), 'categorical_crossentropy', ['accuracy'])
    write_keras(os.path.join(out, 'mlp_keras213.keras'), config, topo['config']['layers'], w, '2.13.1',
                root='_layer_checkpoint_dependencies')


def main():
    write_keras_fixtures()
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
    write(os.path.join(OUT, 'cnn_keras3.h5'), keras3(topo), k3, w, '3.3.3', variable=True, colon=False,
          keras3_groups=True)
    topo, tc, w = load_tfjs('cnn_flat')
    write(os.path.join(OUT, 'cnn_flat.h5'), topo, keras_training_config(tc), w, '2.13.1', chunks=3)
    topo, tc, w = load_tfjs('functional')
    topo['class_name'] = 'Functional'
    write(os.path.join(OUT, 'functional.h5'), topo, keras_training_config(tc), w, '2.13.1')


if __name__ == '__main__':
    main()
