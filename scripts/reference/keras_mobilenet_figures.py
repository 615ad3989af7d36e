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
weights for, and at odd resolutions (ODD_RESOLUTIONS: Keras builds any size from 32 px up,
and there its fixed ((0, 1), (0, 1)) padding differs from the stem's `same`): trainable parameters, non-trainable ones (BN moving statistics) and
multiply-adds counted the standard way with forward hooks (Conv2d: kh*kw*(cin/groups)*cout
*Hout*Wout), at batch 1, by scripts/reference/counting.py; and the same for the paper's Table 3
compound row (TABLE3_COMPOUND), Keras's network scaled in depth too.
"""
import json
import math
import sys

import torch
from torch import nn

from counting import count

ALPHAS = [1.0, 0.75, 0.5, 0.25]
RESOLUTIONS = [224, 192, 160, 128]
# Sizes Keras has no weights for but builds (MobileNet(input_shape=(225, 225, 3), weights=None)):
# odd ones, where the stem's `same` pads a row and a column on both sides and each strided
# block still pads only at the bottom/right, so every stride loses the extra row.
ODD_RESOLUTIONS = [(1.0, 225), (1.0, 161), (0.5, 225)]
# _depthwise_conv_block, block_id 1 to 13, by stage: (pointwise filters, the first block's
# strides, blocks): 64; 128 s2, 128; 256 s2, 256; 512 s2, 512 ×5; 1024 s2, 1024.
STAGES = [(64, 1, 1), (128, 2, 2), (256, 2, 2), (512, 2, 6), (1024, 2, 2)]
# Tan & Le 2019, Table 3's compound row for MobileNetV1: d = 1.4, w = 1.2, r = 1.3. Not a Keras
# model: the paper does not say how it rounded, so this is Keras's network under the rules
# specs/mobilenetv1.effnet states (blocks per stage ceil(d * n), the first with the stage's
# strides; filters int(filters * w); 224 * 1.3 = 291.2 px taken to 288, a multiple of 32).
TABLE3_COMPOUND = {"alpha": 1.2, "depth": 1.4, "resolution": 288}


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


def blocks(depth):
    """(pointwise filters, strides) of each _depthwise_conv_block, Keras's 13 at depth 1."""
    return [
        (filters, stride if i == 0 else 1) for filters, stride, n in STAGES for i in range(math.ceil(depth * n))
    ]


def keras_mobilenet(alpha, depth=1.0, classes=1000):
    layers = []
    stem = int(32 * alpha)
    layers += [TfSameConv(3, stem, 3, 2), nn.BatchNorm2d(stem, eps=1e-3), nn.ReLU6()]
    cin = stem
    for filters, stride in blocks(depth):
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


def figures(alpha, rows, depth=1.0):
    torch.manual_seed(0)
    model = keras_mobilenet(alpha, depth).eval()
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
        "oddResolutions": {f"mobilenet_{a:0.2f}_{r}": figures(a, r) for a, r in ODD_RESOLUTIONS},
        "table3Compound": dict(
            figures(TABLE3_COMPOUND["alpha"], TABLE3_COMPOUND["resolution"], TABLE3_COMPOUND["depth"]),
            depth=TABLE3_COMPOUND["depth"],
        ),
    }
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
