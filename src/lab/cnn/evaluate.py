"""Scores a checkpoint on FER2013 PublicTest once, at the very end (never to choose anything), with the protocol of
`emostream evaluate`: FER+ majority truth matched on msambare_path, unknown / not-a-face / unlisted images left out,
contempt kept and always wrong; plus accuracy against the original FER2013 folder labels. Prints JSON."""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import CONTEMPT, EXCLUDED, LABELS, read_ferplus  # noqa: E402
from export import Served, load  # noqa: E402
from train import OFFSET, REPO, SCALE  # noqa: E402


def report(truth, pred):
    """Accuracy, macro-F1 over our 7, per-class recall, confusion (rows: 7 labels + contempt; cols: 7 labels)."""
    rows = [t if t >= 0 else len(LABELS) for t in truth]
    confusion = np.zeros((len(LABELS) + 1, len(LABELS)), dtype=int)
    np.add.at(confusion, (rows, pred), 1)
    tp = np.diag(confusion[:len(LABELS)])
    support, predicted = confusion[:len(LABELS)].sum(1), confusion.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros(len(LABELS)), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(len(LABELS)), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(LABELS)),
                   where=precision + recall > 0)
    return {'n': len(truth), 'accuracy': tp.sum() / len(truth), 'macroF1': f1.mean(),
            'recall': dict(zip(LABELS, recall.round(4).tolist())), 'confusionRows': LABELS + ['contempt'],
            'confusion': confusion.tolist()}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('checkpoint')
    p.add_argument('--data', default=str(REPO.parent / 'shared/data/fer2013'))
    args = p.parse_args()
    data = Path(args.data)
    files = sorted(str(f.relative_to(data)) for f in (data / 'test').glob('*/*.jpg'))
    pixels = np.stack([np.asarray(Image.open(data / f).convert('L'), dtype=np.uint8) for f in files])
    net, _ = load(args.checkpoint)
    with torch.no_grad():
        x = torch.from_numpy(pixels).float().unsqueeze(3) * SCALE + OFFSET
        pred = torch.cat([Served(net)(x[i:i + 512]) for i in range(0, len(x), 512)]).argmax(1).numpy()
    ferplus = read_ferplus(data / 'ferplus.csv', 'PublicTest')
    majority = np.array([ferplus[f][1] if f in ferplus else EXCLUDED for f in files])
    keep = (majority >= 0) | (majority == CONTEMPT)
    original = np.array([LABELS.index(f.split('/')[1]) for f in files])
    out = {'checkpoint': args.checkpoint, 'ferplus': report(majority[keep], pred[keep]),
           'fer2013Original': {'n': len(files), 'accuracy': float((pred == original).mean())}}
    print(json.dumps(out, indent=1, default=float))


if __name__ == '__main__':
    main()
