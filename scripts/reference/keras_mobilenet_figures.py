"""Reference figures of Keras's MobileNet (v1), for test/reference/zoo.test.ts.

No TensorFlow is installed here and torchvision has no MobileNetV1, so this builds the
network of keras/src/applications/mobilenet.py (MobileNet, _conv_block,
_depthwise_conv_block) layer for layer in torch, by Keras's rules, and counts it:

    /usr/bin/python3 scripts/reference/keras_mobilenet_figures.py > test/reference/keras_mobilenet_figures.json

Keras's rules, as its source writes them:
- widths: `filters = int(filters * alpha)` for the stem (32) and every pointwise conv
  (64, 128, 128, 256, 256, 512 ×6, 1024, 1024); depthwise convs keep their input's channels
  (depth_multiplier 1); no rounding to a multiple of 8.
- the stem: Conv2D(3x3, strides 2, padding "same", use_bias=False), BatchNormalization, ReLU(6).
- each block: [ZeroPadding2D(((0, 1), (0, 1))) when strided], DepthwiseConv2D(3x3, padding
  "same" or "valid" when strided, use_bias=False), BN, ReLU(6), Conv2D(1x1, use_bias=False),
  BN, ReLU(6); strides 2 on blocks 2, 4, 6 and 12.
- the top: GlobalAveragePooling2D(keepdims=True), Dropout, Conv2D(classes, 1x1) with a bias
  ("conv_preds"), Reshape, softmax.
- BatchNormalization keeps gamma and beta (trainable) and moving mean and variance
  (non-trainable, which Keras's count_params() includes).

For every alpha (0.25, 0.5, 0.75, 1.0) and resolution (128, 160, 192, 224) that Keras has
weights for: trainable parameters, non-trainable ones (BN moving statistics) and
multiply-adds counted the standard way with forward hooks (Conv2d: kh*kw*(cin/groups)*cout
*Hout*Wout), at batch 1, by scripts/reference/counting.py.
"""
import json
import sys

import torch
from torch import nn

from counting import count

ALPHAS = [1.0, 0.75, 0.5, 0.25]
RESOLUTIONS = [224, 192, 160, 128]
# (pointwise filters, strides) of _depthwise_conv_block, block_id 1 to 13.
BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def same_padding(size, kernel, stride):
    """TensorFlow's `same`: out = ceil(size / stride), the extra row/column at the bottom/right."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class TfSameConv(nn.Module):
    """Conv2D(padding="same") as TensorFlow pads it, for the stem."""

    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv2d(cin, cout, kernel, stride, bias=False)

    def forward(self, x):
        top, bottom = same_padding(x.shape[2], self.kernel, self.stride)
        left, right = same_padding(x.shape[3], self.kernel, self.stride)
        return self.conv(nn.functional.pad(x, (left, right, top, bottom)))


def keras_mobilenet(alpha, classes=1000):
    layers = []
    stem = int(32 * alpha)
    layers += [TfSameConv(3, stem, 3, 2), nn.BatchNorm2d(stem, eps=1e-3), nn.ReLU6()]
    cin = stem
    for filters, stride in BLOCKS:
        cout = int(filters * alpha)
        if stride == 1:
            layers.append(nn.Conv2d(cin, cin, 3, 1, padding=1, groups=cin, bias=False))
        else:
            layers += [nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(cin, cin, 3, stride, groups=cin, bias=False)]
        layers += [nn.BatchNorm2d(cin, eps=1e-3), nn.ReLU6()]
        layers += [nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU6()]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Dropout(1e-3), nn.Conv2d(cin, classes, 1, bias=True), nn.Flatten()]
    return nn.Sequential(*layers)


def figures(alpha, rows):
    torch.manual_seed(0)
    model = keras_mobilenet(alpha).eval()
    counts, out = count(model, rows)
    assert out.shape == (1, 1000)
    return {
        "alpha": alpha,
        "resolution": rows,
        "trainable": counts["trainable"],
        # Keras's non-trainable weights here are the BN moving statistics alone.
        "nonTrainable": counts["bnStatistics"],
        "macs": counts["macs"],
    }


if __name__ == "__main__":
    out = {
        "source": f"keras/src/applications/mobilenet.py rebuilt in torch {torch.__version__} by scripts/reference/keras_mobilenet_figures.py, 1000 classes, batch 1",
        # Keras's own name for each model: f"mobilenet_{alpha:0.2f}_{rows}".
        "models": {f"mobilenet_{a:0.2f}_{r}": figures(a, r) for a in ALPHAS for r in RESOLUTIONS},
    }
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
