#!/usr/bin/python3
"""Reads a Keras 3 .keras model the way Keras 3's loader does (keras/src/saving/saving_lib.py:
config.json, metadata.json and model.weights.h5 in a zip; each layer of model.layers reads its
variables from layers/<snake-case class name, made unique>/vars/<i>), with zipfile, json and
h5py only, and checks the layout Keras 3 needs. Writes what it read as JSON for the C++ test to
compare with Horn's model:
  {"keras_version", "date_saved", "config", "compile_config", "entries", "compression",
   "layers": [{"name", "class_name", "path", "weights": [{"shape", "dtype", "data"}]}]}
Usage: keras_zip_check.py MODEL.keras OUT.json; exits non-zero, naming the problem, on a bad layout.
"""
import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np


def snake_case(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r'\W+', '', name)
    name = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


def variable_count(layer):
    """How many variables Keras 3 creates for the layer (trainable first, then the others)."""
    cls, c = layer['class_name'], layer['config']
    if cls in ('Dense', 'Conv2D'):
        return 2 if c.get('use_bias', True) else 1
    if cls == 'BatchNormalization':
        return int(c.get('scale', True)) + int(c.get('center', True)) + 2
    return 0


def check_object(obj, what, module=None):
    """serialize_keras_object's form: {module, class_name, config, registered_name}."""
    for key in ('module', 'class_name', 'config', 'registered_name'):
        if key not in obj:
            sys.exit('%s has no "%s": %r' % (what, key, obj))
    if module and obj['module'] != module:
        sys.exit('%s has module %r, not %r' % (what, obj['module'], module))


def check_layer(layer, index):
    what = 'layer %d (%s)' % (index, layer.get('class_name'))
    check_object(layer, what, 'keras.layers')
    c = layer['config']
    if layer['class_name'] == 'InputLayer':
        if 'batch_shape' not in c:
            sys.exit('%s has no batch_shape' % what)
        return
    if 'build_config' not in layer or 'input_shape' not in layer['build_config']:
        sys.exit('%s has no build_config with an input_shape' % what)
    check_object(c.get('dtype', {}), what + "'s dtype", 'keras')
    if c['dtype']['class_name'] != 'DTypePolicy':
        sys.exit('%s has dtype %r' % (what, c['dtype']))
    for key, value in c.items():
        if key.endswith('_initializer'):
            check_object(value, '%s %s' % (what, key), 'keras.initializers')
    if 'batch_input_shape' in c:
        sys.exit('%s has Keras 2\'s batch_input_shape' % what)


def main(path, out):
    with zipfile.ZipFile(path) as z:
        entries = z.namelist()
        for name in ('metadata.json', 'config.json', 'model.weights.h5'):
            if name not in entries:
                sys.exit('the archive has no %s' % name)
        compression = [i.compress_type for i in z.infolist()]
        metadata = json.loads(z.read('metadata.json'))
        config = json.loads(z.read('config.json'))
        weights_h5 = z.read('model.weights.h5')
    if not re.fullmatch(r'\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d', metadata.get('date_saved', '')):
        sys.exit('metadata.json has no date_saved in Keras\'s form: %r' % metadata)
    check_object(config, 'config.json', 'keras')
    if config['class_name'] != 'Sequential':
        sys.exit('the model is a %s, not a Sequential' % config['class_name'])
    all_layers = config['config']['layers']
    for i, layer in enumerate(all_layers):
        check_layer(layer, i)
    # Sequential.layers leaves out the InputLayer Keras 3 keeps first in the config.
    model_layers = all_layers[1:] if all_layers and all_layers[0]['class_name'] == 'InputLayer' else all_layers
    used, layers = {}, []
    with h5py.File(io.BytesIO(weights_h5), 'r') as f:
        for layer in model_layers:
            base = snake_case(layer['class_name'])
            used[base] = used[base] + 1 if base in used else 0
            path = base if used[base] == 0 else '%s_%d' % (base, used[base])
            group = f.get('layers/%s/vars' % path)
            held = sorted(group.keys()) if group is not None else []
            expected = [str(i) for i in range(variable_count(layer))]
            if sorted(held) != sorted(expected):
                sys.exit('layers/%s/vars holds %r; a %s needs %r' % (path, held, layer['class_name'], expected))
            weights = []
            for name in expected:
                d = np.asarray(group[name])
                if d.dtype != np.float32:
                    sys.exit('layers/%s/vars/%s is %s, not float32' % (path, name, d.dtype))
                weights.append({'shape': list(d.shape), 'dtype': str(d.dtype), 'data': d.ravel().tolist()})
            layers.append({'name': layer['config']['name'], 'class_name': layer['class_name'], 'path': path,
                           'weights': weights})
    result = {'keras_version': metadata.get('keras_version'), 'date_saved': metadata['date_saved'],
              'config': config, 'compile_config': config.get('compile_config'), 'entries': entries,
              'compression': compression, 'layers': layers}
    with open(out, 'w') as o:
        json.dump(result, o)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
