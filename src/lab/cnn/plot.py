"""Training-curve PNG from the per-epoch history."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def plot_history(history, path):
    epochs = [h['epoch'] for h in history]
    fig, (loss, acc) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ('train', 'val'):
        loss.plot(epochs, [h[f'{split}_loss'] for h in history], marker='.', label=split)
        acc.plot(epochs, [h[f'{split}_acc'] for h in history], marker='.', label=split)
    loss.set(title='loss (train: vs its targets, augmented; val: vs FER+ majority)', xlabel='epoch')
    acc.set(title='accuracy (val: FER+ majority, contempt wrong)', xlabel='epoch')
    for ax in (loss, acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
