"""Exports a checkpoint to what emostream serves:
- model.onnx (ONNX Runtime), in the project's ONNX contract (docs/models.md, "ONNX"): input `crops`, uint8 NHWC
  [N,48,48,3] as the pipeline cuts them; grey conversion and normalisation inside the graph; output `probabilities`;
- model.json + weights.bin (a tfjs layers model): NHWC float32 [N,48,48,1] = grey pixel * scale + offset (the tfjs
  engine prepares that from the manifest, as for the other models), softmax probabilities;
- model.pt: the network's weights (PyTorch state dict), for the equivalence test.
Probabilities are in our label order."""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import LABELS  # noqa: E402
from model import Block, EmotionNet  # noqa: E402
from plot import plot_history  # noqa: E402
from train import OFFSET, RUN_OPTIONS, SCALE  # noqa: E402


# The grey conversion of the serving code (src/inference/EmotionClassifier.ts, cropTensor), on 0-255 RGB.
GREY = (0.2989, 0.587, 0.114)


class Served(nn.Module):
    """Normalised grey NHWC input -> NCHW network -> softmax (the tfjs model's function)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x.permute(0, 3, 1, 2)), 1)


class ServedCrops(nn.Module):
    """uint8 RGB crops NHWC -> grey -> pixel * SCALE + OFFSET -> Served (the ONNX contract)."""

    def __init__(self, net):
        super().__init__()
        self.served = Served(net)
        self.register_buffer('grey', torch.tensor(GREY).view(1, 1, 1, 3))

    def forward(self, crops):
        grey = (crops.float() * self.grey).sum(3, keepdim=True)
        return self.served(grey * SCALE + OFFSET)


def load(checkpoint):
    ckpt = torch.load(checkpoint)
    net = EmotionNet(**ckpt['config'])
    net.load_state_dict(ckpt['model'])
    return net.eval(), ckpt


def export_onnx(net, path):
    torch.onnx.export(ServedCrops(net), torch.zeros(1, 48, 48, 3, dtype=torch.uint8), str(path), opset_version=13,
                      input_names=['crops'], output_names=['probabilities'],
                      dynamic_axes={'crops': {0: 'N'}, 'probabilities': {0: 'N'}})


def fold(conv_bn):
    """conv (no bias) + BatchNorm -> HWIO kernel and bias."""
    conv, bn = conv_bn
    k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    kernel = conv.weight * k.view(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * k
    return kernel.permute(2, 3, 1, 0).detach().numpy(), bias.detach().numpy()


class Keras:
    """Builds a Keras functional topology and its weights, layer by layer."""

    def __init__(self):
        self.layers, self.weights, self.count = [], [], 0

    def add(self, cls, inputs, config, weights=(), name=None):
        self.count += 1
        name = name or f'{cls.lower()}_{self.count}'
        self.layers.append({'class_name': cls, 'name': name, 'config': {'name': name, 'trainable': False, **config},
                            'inbound_nodes': [[[i, 0, 0, {}] for i in inputs]] if inputs else []})
        for suffix, value in weights:
            self.weights.append((f'{name}/{suffix}', np.ascontiguousarray(value, dtype=np.float32)))
        return name

    def conv(self, x, conv_bn, relu):
        kernel, bias = fold(conv_bn)
        return self.add('Conv2D', [x], {
            'filters': kernel.shape[3], 'kernel_size': list(kernel.shape[:2]), 'strides': [1, 1],
            'padding': 'same', 'data_format': 'channels_last', 'dilation_rate': [1, 1],
            'activation': 'relu' if relu else 'linear', 'use_bias': True}, [('kernel', kernel), ('bias', bias)])


def tfjs_model(net):
    """(model.json dict, weights.bin bytes) for `net`, BatchNorm folded into the convolutions."""
    k = Keras()
    x = k.add('InputLayer', [], {'batch_input_shape': [None, 48, 48, 1], 'dtype': 'float32', 'sparse': False},
              name='input')
    for layer in net.features:
        if isinstance(layer, nn.Sequential):
            x = k.conv(x, layer, relu=True)
        elif isinstance(layer, nn.MaxPool2d):
            x = k.add('MaxPooling2D', [x], {'pool_size': [2, 2], 'strides': [2, 2], 'padding': 'valid',
                                            'data_format': 'channels_last'})
        elif isinstance(layer, Block):
            y = k.conv(k.conv(x, layer.a, relu=True), layer.b, relu=False)
            short = x if layer.short is None else k.conv(x, layer.short, relu=False)
            x = k.add('Activation', [k.add('Add', [y, short], {})], {'activation': 'relu'})
    x = k.add('GlobalAveragePooling2D', [x], {'data_format': 'channels_last'})
    fc = net.fc
    k.add('Dense', [x], {'units': fc.out_features, 'activation': 'softmax', 'use_bias': True},
          [('kernel', fc.weight.detach().numpy().T), ('bias', fc.bias.detach().numpy())], name='probabilities')
    topology = {'class_name': 'Model', 'keras_version': '2.4.0', 'backend': 'tensorflow', 'config': {
        'name': 'emotion_cnn', 'layers': k.layers, 'input_layers': [['input', 0, 0]],
        'output_layers': [['probabilities', 0, 0]]}}
    manifest = [{'paths': ['weights.bin'], 'weights': [
        {'name': n, 'shape': list(w.shape), 'dtype': 'float32'} for n, w in k.weights]}]
    model_json = {'format': 'layers-model', 'generatedBy': 'emostream src/lab/cnn/export.py',
                  'convertedBy': None, 'modelTopology': topology, 'weightsManifest': manifest}
    return model_json, b''.join(w.tobytes() for _, w in k.weights)


def training_record(ckpt, run):
    """What training.json says about the exported weights: how they were made and how to feed them."""
    a, history = ckpt['args'], json.loads((run / 'history.json').read_text())
    return {
        'command': a.get('command', 'not recorded'), 'seed': a['seed'],
        'data': 'FER2013 train JPEGs (fer2013/train) with FER+ labels (ferplus.csv, usage Training)',
        'labels': a['labels'], 'labelOrder': LABELS, 'outputs': 'probabilities',
        'validation': {'fraction': a['val_fraction'], 'splitSeed': a['split_seed'],
                       'metric': 'accuracy vs FER+ majority, contempt counted wrong'},
        'hyperParameters': {k: a[k] for k in RUN_OPTIONS if k not in ('labels', 'seed', 'limit')},
        'parameters': sum(v.numel() for k, v in ckpt['model'].items() if 'running' not in k and 'tracked' not in k),
        'epochsPlanned': a['epochs'], 'epochsDone': len(history), 'exportedEpoch': ckpt['epoch'],
        'valAccuracy': history[ckpt['epoch'] - 1]['val_acc'],
        'normalisation': {'formula': 'pixel_0_255 * scale + offset', 'scale': SCALE, 'offset': OFFSET},
        'input': {'size': 48, 'colour': 'grey', 'onnx': 'crops: uint8 NHWC [N,48,48,3]',
                  'tfjs': 'NHWC float32 [N,48,48,1], grey * scale + offset'},
        'history': history,
    }


def manifest(record, onnx_source_sha256):
    """The model's manifest for emostream (src/inference/modelManifest.ts): served by both engines."""
    return {
        'name': 'emotion-cnn', 'kind': 'emotion', 'runtime': 'layers',
        'description': 'our residual CNN trained end to end on FER+ (src/lab/cnn)',
        'origin': {'trainedBy': 'src/lab/cnn/train.py', 'license': 'MIT'},
        'files': ['model.json', 'weights.bin'],
        'input': {'size': 48, 'colour': 'grey', 'scale': SCALE, 'offset': OFFSET},
        'labels': LABELS, 'outputs': 'probabilities', 'crop': {'margin': 0.25},
        'onnx': {'file': 'model.onnx', 'convertedBy': 'src/lab/cnn/export.py', 'sourceSha256': onnx_source_sha256},
        'training': {k: record[k] for k in ('command', 'seed', 'data', 'labels', 'hyperParameters', 'parameters',
                                            'epochsDone', 'exportedEpoch', 'valAccuracy') if k in record},
    }


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('checkpoint', help='best.pt or last.pt of a run')
    p.add_argument('--out', required=True, help='folder for model.onnx, model.json, weights.bin')
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net, ckpt = load(args.checkpoint)
    export_onnx(net, out / 'model.onnx')
    torch.save({'config': ckpt['config'], 'model': net.state_dict()}, out / 'model.pt')
    model_json, weights = tfjs_model(net)
    (out / 'model.json').write_text(json.dumps(model_json))
    (out / 'weights.bin').write_bytes(weights)
    run = Path(args.checkpoint).parent
    record = {}
    if (run / 'history.json').exists():
        record = training_record(ckpt, run)
        (out / 'training.json').write_text(json.dumps(record, indent=1))
        plot_history(json.loads((run / 'history.json').read_text()), out / 'training-curve.png')
    source = hashlib.sha256((out / 'model.pt').read_bytes()).hexdigest()
    (out / 'manifest.json').write_text(json.dumps(manifest(record, source), indent=2) + '\n')
    print(f'wrote {out}/model.onnx, model.json, weights.bin ({len(weights)} bytes)', file=sys.stderr)


if __name__ == '__main__':
    main()
