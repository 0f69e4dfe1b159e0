#!/usr/bin/python3
"""Reads a Keras .h5 model the way Keras 2's loader does (keras/saving/hdf5_format.py:
load_attributes_from_hdf5_group, model_config, weight_names), with h5py only, and checks the
layout Keras needs. Writes what it read as JSON for the C++ test to compare with Horn's model:
  {"keras_version", "backend", "model_config", "training_config",
   "layers": [{"name", "weight_names", "weights": [{"shape", "dtype", "data"}]}],
   "chunked": [attributes stored as <name>0, <name>1, ...]}
Usage: keras_h5_check.py MODEL.h5 OUT.json; exits non-zero, naming the problem, on a bad layout.
"""
import json
import sys

import h5py
import numpy as np


def decode(v):
    return v.decode('utf8') if hasattr(v, 'decode') else v


def load_attributes(group, name, chunked):
    """keras.saving.hdf5_format.load_attributes_from_hdf5_group."""
    if name in group.attrs:
        return [decode(n) for n in group.attrs[name]]
    data, chunk_id = [], 0
    while '%s%d' % (name, chunk_id) in group.attrs:
        data.extend(decode(n) for n in group.attrs['%s%d' % (name, chunk_id)])
        chunk_id += 1
    if chunk_id:
        chunked.append(group.name + ':' + name)
    return data


def main(path, out):
    chunked = []
    with h5py.File(path, 'r') as f:
        config = f.attrs.get('model_config')
        if config is None:
            sys.exit('no model_config attribute')
        config = json.loads(decode(config))
        training = f.attrs.get('training_config')
        training = json.loads(decode(training)) if training is not None else None
        mw = f['model_weights']
        layer_names = load_attributes(mw, 'layer_names', chunked)
        config_names = [l['config']['name'] for l in config['config']['layers']]
        if layer_names != config_names:
            sys.exit('layer_names %r differ from the model config %r' % (layer_names[:5], config_names[:5]))
        layers = []
        for name in layer_names:
            g = mw[name]
            weight_names = load_attributes(g, 'weight_names', chunked)
            weights = []
            for wn in weight_names:
                if not wn.startswith(name + '/') or not wn.endswith(':0'):
                    sys.exit('weight name %r is not "<layer>/<weight>:0"' % wn)
                d = np.asarray(g[wn])
                if d.dtype != np.float32:
                    sys.exit('weight %r is %s, not float32' % (wn, d.dtype))
                weights.append({'shape': list(d.shape), 'dtype': str(d.dtype), 'data': d.ravel().tolist()})
            layers.append({'name': name, 'weight_names': weight_names, 'weights': weights})
        result = {'keras_version': decode(f.attrs['keras_version']), 'backend': decode(f.attrs['backend']),
                  'model_config': config, 'training_config': training, 'layers': layers, 'chunked': chunked}
    with open(out, 'w') as o:
        json.dump(result, o)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
