"""Batch augmentation on normalised NCHW faces; every random draw comes from the generator passed in."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw


def _u(gen, n, lo, hi):
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def affine(x, gen, rotate_deg, shift_px, scale):
    """Random rotation / isotropic scale / shift per image, bilinear, edges repeated."""
    n, _, h, w = x.shape
    a = _u(gen, n, -rotate_deg, rotate_deg) * math.pi / 180
    s = 1 / _u(gen, n, 1 - scale, 1 + scale)
    tx, ty = (_u(gen, n, -shift_px, shift_px) * 2 / w for _ in range(2))
    theta = torch.stack([
        torch.stack([s * torch.cos(a), -s * torch.sin(a), tx], 1),
        torch.stack([s * torch.sin(a), s * torch.cos(a), ty], 1),
    ], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


def mask_bank(count, seed, size=48):
    """`count` face-mask shapes (1 inside): a polygon from below the nose to the chin, over the lower ~45% of a
    48x48 face crop, with jittered corners."""
    rng = np.random.default_rng(seed)
    bank = []
    for _ in range(count):
        j = lambda lo, hi: float(rng.uniform(lo, hi)) * size
        top, nose = j(0.52, 0.62), j(0.48, 0.55)
        pts = [(j(0.02, 0.14), top), (size / 2 + j(-0.03, 0.03), nose), (j(0.86, 0.98), top),
               (j(0.84, 0.96), j(0.75, 0.85)), (j(0.62, 0.72), size), (j(0.28, 0.38), size),
               (j(0.04, 0.16), j(0.75, 0.85))]
        img = Image.new('L', (size, size), 0)
        ImageDraw.Draw(img).polygon(pts, fill=255)
        bank.append(np.asarray(img, dtype=np.float32) / 255)
    return torch.from_numpy(np.stack(bank))[:, None]


def draw_masks(x, gen, p, bank):
    """With probability p, paint a bank mask over the face in a flat random grey with a little noise."""
    n = x.shape[0]
    use = torch.rand(n, generator=gen) < p
    pick = torch.randint(len(bank), (n,), generator=gen)
    grey = _u(gen, n, -2.0, 2.0).view(n, 1, 1, 1) + 0.05 * torch.randn(x.shape, generator=gen)
    m = bank[pick] * use.view(n, 1, 1, 1)
    return x * (1 - m) + grey * m


def erase(x, gen, p, area=(0.02, 0.2), ratio=(0.3, 3.3)):
    """Random erasing: with probability p per image, a rectangle of random area and aspect ratio set to noise."""
    n, _, h, w = x.shape
    use = torch.rand(n, generator=gen) < p
    frac = _u(gen, n, *area)
    r = torch.exp(_u(gen, n, math.log(ratio[0]), math.log(ratio[1])))
    eh = (frac * h * w * r).sqrt().round().clamp(1, h).long()
    ew = (frac * h * w / r).sqrt().round().clamp(1, w).long()
    y0 = (torch.rand(n, generator=gen) * (h - eh + 1)).long()
    x0 = (torch.rand(n, generator=gen) * (w - ew + 1)).long()
    noise = torch.randn(x.shape, generator=gen)
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    box = ((rows >= y0.view(n, 1, 1)) & (rows < (y0 + eh).view(n, 1, 1))
           & (cols >= x0.view(n, 1, 1)) & (cols < (x0 + ew).view(n, 1, 1)) & use.view(n, 1, 1))
    return torch.where(box[:, None], noise, x)


def augment(x, gen, opts, bank):
    """flip -> affine -> mask -> erase, as `opts` (the parsed command line) asks."""
    if opts.flip:
        flip = (torch.rand(x.shape[0], generator=gen) < 0.5).view(-1, 1, 1, 1)
        x = torch.where(flip, x.flip(3), x)
    if opts.rotate or opts.shift or opts.scale:
        x = affine(x, gen, opts.rotate, opts.shift, opts.scale)
    if opts.mask > 0:
        x = draw_masks(x, gen, opts.mask, bank)
    if opts.erase > 0:
        x = erase(x, gen, opts.erase)
    return x
