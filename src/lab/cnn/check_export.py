"""Writes the PyTorch reference for check_export.mjs: real FER test faces (raw pixels) and the checkpoint's
probabilities for them, as JSON."""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export import ServedCrops, load  # noqa: E402
from train import OFFSET, REPO, SCALE  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='reference JSON to write')
    p.add_argument('--data', default=str(REPO.parent / 'shared/data/fer2013'))
    p.add_argument('--count', type=int, default=96, help='faces, spread evenly over the sorted test files')
    args = p.parse_args()
    files = sorted((Path(args.data) / 'test').glob('*/*.jpg'))
    files = [files[i] for i in np.linspace(0, len(files) - 1, args.count).round().astype(int)]
    pixels = np.stack([np.asarray(Image.open(f).convert('L'), dtype=np.uint8) for f in files])
    crops = torch.from_numpy(np.repeat(pixels[..., None], 3, axis=3))  # grey JPEGs as the RGB crops served
    net, _ = load(args.checkpoint)
    with torch.no_grad():
        probs = ServedCrops(net)(crops).numpy()
    Path(args.out).write_text(json.dumps({
        'scale': SCALE, 'offset': OFFSET, 'files': [str(f.relative_to(args.data)) for f in files],
        'pixels': pixels.reshape(len(files), -1).tolist(), 'probabilities': probs.tolist()}))


if __name__ == '__main__':
    main()
