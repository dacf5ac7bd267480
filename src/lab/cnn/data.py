"""FER2013 JPEGs + FER+ votes -> arrays, decoded once into a .npz cache; the seeded validation split."""
import csv
import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

# Our label order (src/core/labels.ts).
LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']
# FER+ vote columns, in the CSV's order.
VOTES = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt', 'unknown', 'NF']
# Index of each of our labels among the vote columns.
VOTE_OF_LABEL = [VOTES.index(v) for v in ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise', 'neutral']]
CONTEMPT = -1  # majority label that stays in evaluation and always counts as wrong
EXCLUDED = -2  # majority unknown / not a face: left out of evaluation and of majority training


def default_cache():
    return Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'emostream-cnn'


def _majority_index(name):
    if name in LABELS:
        return LABELS.index(name)
    return CONTEMPT if name == 'contempt' else EXCLUDED


def read_ferplus(csv_path, usage):
    """msambare_path -> (votes[10] summed over the rows naming that path, majority of its last row)."""
    out = {}
    with open(csv_path, newline='') as f:
        for row in csv.DictReader(f):
            if row['usage'] != usage:
                continue
            votes = np.array([float(row['votes_' + v]) for v in VOTES], dtype=np.float32)
            path = row['msambare_path']
            if path in out:
                votes = votes + out[path][0]
            out[path] = (votes, _majority_index(row['ferplus_majority']))
    return out


def _decode(path):
    img = Image.open(path).convert('L')
    if img.size != (48, 48):
        img = img.resize((48, 48), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def load_split(data_dir, split, cache_dir, subset=None):
    """Images of `split` (train|test) that the FER+ CSV lists, with their votes and majority; cached as .npz
    keyed by the data folder's path (delete the cache if the files change). `subset=(n, seed)` decodes only n of
    them, drawn with that seed, and bypasses the cache (tiny test runs)."""
    data_dir = Path(data_dir).resolve()
    usage = {'train': 'Training', 'test': 'PublicTest'}[split]
    cache = Path(cache_dir) / f'{split}-{hashlib.sha1(str(data_dir).encode()).hexdigest()[:10]}.npz'
    if cache.exists() and subset is None:
        z = np.load(cache)
        return {k: z[k] for k in z.files}
    labels = read_ferplus(data_dir / 'ferplus.csv', usage)
    paths = sorted(str(p.relative_to(data_dir)) for p in (data_dir / split).glob('*/*.jpg'))
    paths = [p for p in paths if p in labels]
    if not paths:
        raise SystemExit(f'no FER+ labelled images under {data_dir / split}')
    if subset:
        n, seed = subset
        paths = sorted(np.random.default_rng(seed).permutation(paths)[:n].tolist())
    images = np.stack([_decode(data_dir / p) for p in paths])
    out = {
        'images': images,
        'votes': np.stack([labels[p][0] for p in paths]),
        'majority': np.array([labels[p][1] for p in paths], dtype=np.int64),
        'paths': np.array(paths),
        'fer2013': np.array([LABELS.index(p.split('/')[1]) for p in paths], dtype=np.int64),
    }
    if subset:
        return out
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix('.tmp.npz')
    np.savez(tmp, **out)
    os.replace(tmp, cache)
    return out


def probability_targets(votes):
    """FER+ 'probability' targets over our 7: single votes dropped as outliers (as the FER+ paper does),
    contempt / unknown / not-a-face votes left out, the rest renormalised. Rows whose 7 emotions hold no more than
    half of the remaining votes get NaN (not trained on)."""
    v = np.where(votes > 1, votes, 0)
    ours = v[:, VOTE_OF_LABEL]
    total = v.sum(1, keepdims=True)
    keep = ours.sum(1, keepdims=True) > 0.5 * np.maximum(total, 1)
    return np.where(keep, ours / np.maximum(ours.sum(1, keepdims=True), 1), np.nan).astype(np.float32)


def val_split(images, majority, fraction, seed):
    """Boolean mask of validation rows: stratified on the FER+ majority, seeded; byte-identical images are kept on
    one side (a group of duplicates goes where its first member's stratum puts it)."""
    groups = {}
    for i, img in enumerate(images):
        groups.setdefault(hashlib.sha1(img.tobytes()).digest(), []).append(i)
    rng = np.random.default_rng(seed)
    by_stratum = {}
    for members in groups.values():
        by_stratum.setdefault(int(majority[members[0]]), []).append(members)
    is_val = np.zeros(len(images), dtype=bool)
    for stratum in sorted(by_stratum):
        group_list = by_stratum[stratum]
        order = rng.permutation(len(group_list))
        for j in order[: int(round(fraction * len(group_list)))]:
            is_val[group_list[j]] = True
    return is_val
