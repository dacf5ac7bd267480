"""PyTorch's probabilities for face crops, as the reference the engines are tested against.

Usage: /usr/bin/python3 reference.py MODEL.pt CROPS.bin COUNT > probabilities.json
CROPS.bin holds COUNT uint8 RGB crops of 48x48, one after another (as the pipeline cuts them); the output is a JSON
array of COUNT rows of 7 probabilities in our label order, from the same function the ONNX file computes."""
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export import ServedCrops  # noqa: E402
from model import EmotionNet  # noqa: E402


def main():
    weights, crops, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    saved = torch.load(weights)
    net = EmotionNet(**saved['config'])
    net.load_state_dict(saved['model'])
    x = torch.from_numpy(np.fromfile(crops, dtype=np.uint8).reshape(count, 48, 48, 3))
    with torch.no_grad():
        probs = ServedCrops(net.eval())(x).numpy()
    json.dump(probs.tolist(), sys.stdout)


if __name__ == '__main__':
    main()
