"""Validation accuracy of checkpoints on clean faces and on the same faces with a drawn face mask (a mask bank and
grey levels the training runs never drew), to tell whether --mask helps on masked faces. Prints one JSON line each."""
import argparse
import json
import sys
from argparse import Namespace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augment import draw_masks, mask_bank  # noqa: E402
from export import load  # noqa: E402
from train import evaluate, prepare  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('checkpoints', nargs='+')
    p.add_argument('--data', help='FER2013 folder (default: the one the run used)')
    p.add_argument('--cache', help='decoded-image cache (default: the one the run used)')
    args = p.parse_args()
    torch.set_num_threads(2)
    for checkpoint in args.checkpoints:
        net, ckpt = load(checkpoint)
        run = Namespace(**{**ckpt['args'], **{k: v for k, v in vars(args).items() if v and k != 'checkpoints'}})
        _, _, xv, mv = prepare(run)
        masked = draw_masks(xv, torch.Generator().manual_seed(12345), 1.0, mask_bank(128, 12345))
        print(json.dumps({'checkpoint': checkpoint, 'mask': run.mask, 'val_acc': evaluate(net, xv, mv)[1],
                          'val_acc_masked': evaluate(net, masked, mv)[1]}))


if __name__ == '__main__':
    main()
