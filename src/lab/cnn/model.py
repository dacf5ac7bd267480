"""A small residual CNN for 48x48 grey faces: conv-BN-ReLU only, max-pool between stages (no strided convs, so
PyTorch and TF padding agree), global average pooling, one dense layer. Ops chosen to export to ONNX and tfjs."""
import torch
from torch import nn


def conv_bn(cin, cout, k=3):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout))


class Block(nn.Module):
    """Basic residual block: relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); 1x1 conv shortcut when widths differ."""

    def __init__(self, cin, cout):
        super().__init__()
        self.a = conv_bn(cin, cout)
        self.b = conv_bn(cout, cout)
        self.short = conv_bn(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        y = self.b(torch.relu(self.a(x)))
        return torch.relu(y + (x if self.short is None else self.short(x)))


class EmotionNet(nn.Module):
    """stem conv at 48x48, then per stage: 2x2 max-pool and `depth` blocks of `width` channels."""

    def __init__(self, stem=32, widths=(64, 128, 256), depths=(1, 1, 1), dropout=0.3, classes=7):
        super().__init__()
        self.config = dict(stem=stem, widths=list(widths), depths=list(depths), dropout=dropout, classes=classes)
        layers = [conv_bn(1, stem), nn.ReLU()]
        cin = stem
        for width, depth in zip(widths, depths):
            layers.append(nn.MaxPool2d(2))
            for _ in range(depth):
                layers.append(Block(cin, width))
                cin = width
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        """x: NCHW normalised grey faces -> logits."""
        return self.fc(self.drop(self.features(x).mean((2, 3))))


def parse_arch(text):
    """'32:64x1,128x1,256x1' -> dict(stem=32, widths=[64,128,256], depths=[1,1,1])."""
    stem, stages = text.split(':')
    widths, depths = zip(*(map(int, s.split('x')) for s in stages.split(',')))
    return dict(stem=int(stem), widths=list(widths), depths=list(depths))
