"""Trains the emotion CNN on FER2013 images with FER+ labels. One line per epoch on stderr; checkpoints every epoch
in --out (last.pt, best.pt by validation accuracy), history.json, training-curve.png, summary.json."""
import argparse
import hashlib
import json
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augment import augment, mask_bank  # noqa: E402
from data import CONTEMPT, LABELS, default_cache, load_split, probability_targets, val_split  # noqa: E402
from model import EmotionNet, parse_arch  # noqa: E402
from plot import plot_history  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
# Network input = pixel (0..255) * SCALE + OFFSET.
SCALE, OFFSET = 1 / 64, -2.0
# Options a resumed run takes from its checkpoint, whatever the command line says (threads too: the thread count
# changes how float sums are split, so the weights).
RUN_OPTIONS = ['labels', 'arch', 'dropout', 'epochs', 'batch_size', 'lr', 'momentum', 'weight_decay', 'warmup',
               'seed', 'val_fraction', 'split_seed', 'balance', 'balance_power', 'flip', 'rotate', 'shift', 'scale',
               'erase', 'mask', 'limit', 'threads']


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--out', required=True, help='run folder (checkpoints, log, curve)')
    p.add_argument('--data', default=str(REPO.parent / 'shared/data/fer2013'), help='FER2013 folder with ferplus.csv')
    p.add_argument('--cache', default=str(default_cache()), help='where decoded images are cached (.npz)')
    p.add_argument('--labels', choices=['majority', 'probability'], default='probability',
                   help='FER+ target: majority vote (one-hot) or vote distribution (soft cross-entropy)')
    p.add_argument('--arch', default='32:48x1,96x2,192x1', help='stem:width x depth per stage, max-pool before each')
    p.add_argument('--dropout', type=float, default=0.3)
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=0.05, help='peak SGD learning rate (linear warm-up, cosine decay)')
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--weight-decay', type=float, default=5e-4)
    p.add_argument('--warmup', type=float, default=1.0, help='warm-up epochs')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--val-fraction', type=float, default=0.1, help='share of train held out for validation')
    p.add_argument('--split-seed', type=int, default=0, help='seed of the validation split (apart from --seed)')
    p.add_argument('--balance', choices=['none', 'loss', 'sampler'], default='none',
                   help='class balancing: weighted loss or weighted sampling, weights count^-power')
    p.add_argument('--balance-power', type=float, default=0.5)
    p.add_argument('--no-flip', dest='flip', action='store_false', help='no horizontal flips')
    p.add_argument('--rotate', type=float, default=10.0, help='max rotation, degrees')
    p.add_argument('--shift', type=float, default=3.0, help='max shift, pixels')
    p.add_argument('--scale', type=float, default=0.1, help='max relative zoom')
    p.add_argument('--erase', type=float, default=0.25, help='random-erasing probability')
    p.add_argument('--mask', type=float, default=0.0, help='probability of a drawn face mask over the lower face')
    p.add_argument('--limit', type=int, default=0,
                   help='tiny run: decode only about N/(1-val-fraction) seeded-random images (no cache)')
    p.add_argument('--resume', action='store_true', help='continue the run in --out from last.pt')
    p.add_argument('--stop-after', type=int, default=0, help='stop once this epoch is done (resume later)')
    p.add_argument('--threads', type=int, default=2)
    return p.parse_args(argv)


def prepare(args):
    """Train / validation tensors. Validation keeps the evaluation protocol: majority in our 7 or contempt."""
    subset = (math.ceil(args.limit / (1 - args.val_fraction)), args.seed) if args.limit else None
    d = load_split(args.data, 'train', args.cache, subset)
    is_val = val_split(d['images'], d['majority'], args.val_fraction, args.split_seed)
    if args.labels == 'majority':
        targets = np.full((len(is_val), len(LABELS)), np.nan, dtype=np.float32)
        ok = d['majority'] >= 0
        targets[ok] = np.eye(len(LABELS), dtype=np.float32)[d['majority'][ok]]
    else:
        targets = probability_targets(d['votes'])
    train = np.flatnonzero(~is_val & ~np.isnan(targets[:, 0]))
    val = np.flatnonzero(is_val & ((d['majority'] >= 0) | (d['majority'] == CONTEMPT)))
    # channels_last: faster convolutions on CPU (about 20% here).
    x = (torch.from_numpy(d['images']).float().unsqueeze(1) * SCALE + OFFSET).contiguous(memory_format=torch.channels_last)
    return x[train], torch.from_numpy(targets[train]), x[val], torch.from_numpy(d['majority'][val])


def class_weights(targets, power):
    counts = targets.sum(0).clamp(min=1)
    w = counts ** -power
    return w / (w * counts).sum() * counts.sum()


def lr_at(step, total, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    return 0.5 * peak * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def evaluate(model, x, majority, batch=512):
    """(loss on rows whose majority is one of our 7, accuracy with contempt rows counted wrong)."""
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])
    ours = majority >= 0
    loss = F.cross_entropy(logits[ours], majority[ours]).item() if ours.any() else float('nan')
    return loss, (logits.argmax(1) == majority).float().mean().item()


def weights_sha256(model):
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    ckpt = torch.load(out / 'last.pt') if args.resume else None
    args.command = shlex.join(['/usr/bin/python3', *sys.argv])
    if ckpt:
        for k in RUN_OPTIONS + ['command']:
            setattr(args, k, ckpt['args'][k])
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    xt, tt, xv, mv = prepare(args)
    model = EmotionNet(**parse_arch(args.arch), dropout=args.dropout).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True,
                          weight_decay=args.weight_decay)
    bank = mask_bank(128, args.seed)
    weights = class_weights(tt, args.balance_power) if args.balance != 'none' else torch.ones(len(LABELS))
    steps = len(xt) // args.batch_size
    if steps == 0:
        sys.exit(f'need at least --batch-size ({args.batch_size}) training images, have {len(xt)}')
    history, best, start = [], {'acc': -1.0, 'epoch': 0}, 0
    if ckpt:
        model.load_state_dict(ckpt['model'])
        opt.load_state_dict(ckpt['optimizer'])
        gen.set_state(ckpt['generator'])
        torch.set_rng_state(ckpt['torch_rng'])
        history, best, start = ckpt['history'], ckpt['best'], ckpt['epoch']
    out.mkdir(parents=True, exist_ok=True)
    print(f'train {len(xt)} images, val {len(xv)}, {sum(p.numel() for p in model.parameters())} parameters, '
          f'{args.labels} labels, arch {args.arch}', file=sys.stderr)

    for epoch in range(start + 1, args.epochs + 1):
        t0 = time.time()
        model.train()
        if args.balance == 'sampler':
            order = torch.multinomial(tt @ weights, len(xt), replacement=True, generator=gen)
        else:
            order = torch.randperm(len(xt), generator=gen)
        loss_sum = correct = seen = 0.0
        for s in range(steps):
            step = (epoch - 1) * steps + s
            for g in opt.param_groups:
                g['lr'] = lr_at(step, args.epochs * steps, args.warmup * steps, args.lr)
            idx = order[s * args.batch_size:(s + 1) * args.batch_size]
            x, t = augment(xt[idx], gen, args, bank), tt[idx]
            logits = model(x)
            per = -(t * F.log_softmax(logits, 1)).sum(1)
            if args.balance == 'loss':
                per = per * (t @ weights)
            loss = per.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == t.argmax(1)).sum().item()
            seen += len(idx)
        val_loss, val_acc = evaluate(model, xv, mv)
        row = dict(epoch=epoch, train_loss=loss_sum / seen, train_acc=correct / seen, val_loss=val_loss,
                   val_acc=val_acc, seconds=round(time.time() - t0, 1))
        history.append(row)
        print(f"epoch {epoch}/{args.epochs} train loss {row['train_loss']:.4f} acc {row['train_acc']:.4f} | "
              f"val loss {val_loss:.4f} acc {val_acc:.4f} | {row['seconds']}s", file=sys.stderr, flush=True)
        if val_acc > best['acc']:
            best = {'acc': val_acc, 'epoch': epoch}
            torch.save({'model': model.state_dict(), 'config': model.config, 'epoch': epoch, 'args': vars(args)},
                       out / 'best.tmp')
            (out / 'best.tmp').replace(out / 'best.pt')
        state = {'model': model.state_dict(), 'optimizer': opt.state_dict(), 'generator': gen.get_state(),
                 'torch_rng': torch.get_rng_state(), 'history': history, 'best': best, 'epoch': epoch,
                 'args': vars(args), 'config': model.config}
        torch.save(state, out / 'last.tmp')
        (out / 'last.tmp').replace(out / 'last.pt')
        (out / 'history.json').write_text(json.dumps(history, indent=1))
        plot_history(history, out / 'training-curve.png')
        if epoch == args.stop_after and epoch < args.epochs:
            print(f'stopped after epoch {epoch}; continue with --resume', file=sys.stderr)
            return
    summary = dict(args=vars(args), best_epoch=best['epoch'], best_val_acc=best['acc'], epochs_done=len(history),
                   scale=SCALE, offset=OFFSET, last_weights_sha256=weights_sha256(model), history=history)
    (out / 'summary.json').write_text(json.dumps(summary, indent=1))


if __name__ == '__main__':
    main()
