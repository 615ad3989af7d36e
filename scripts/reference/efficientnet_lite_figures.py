"""Reference figures of EfficientNet-lite0..4, for test/reference/zoo.test.ts.

No TensorFlow (nor timm) is installed here, so this builds the network of tensorflow/tpu
models/official/efficientnet/lite/efficientnet_lite_builder.py (efficientnet_lite_params,
_DEFAULT_BLOCKS_ARGS, efficientnet_lite) with efficientnet_model.py (round_filters,
round_repeats, MBConvBlock, Model._build) layer for layer in torch, by their rules, and counts it:

    /usr/bin/python3 scripts/reference/efficientnet_lite_figures.py > test/reference/efficientnet_lite_figures.json

The reference's rules, as its source writes them:
- round_filters: filters * width, then max(divisor, int(filters + divisor / 2) // divisor * divisor),
  one more divisor if that is below 0.9 * filters (depth_divisor 8, min_depth None);
  round_repeats: int(ceil(depth * repeats)).
- lite's global params: relu_fn relu6, use_se False, fix_head_stem True: the stem (32) and the
  head (1280) are round_filters(..., skip=True), i.e. not scaled, and the first and last block
  args (i == 0 or i == len(blocks_args) - 1) keep their repeats. Every block's input and output
  filters are still round_filters'd (the first block's input_filters only sets its expansion
  width, which expand_ratio 1 does not build).
- the stem: Conv2D(3x3, strides 2, padding "same", use_bias=False), BN, relu6.
- MBConvBlock: [expand 1x1 conv, BN, relu6 when expand_ratio != 1], depthwise kxk with the
  block's strides (padding "same"), BN, relu6, project 1x1 conv, BN (no activation); the
  identity skip when strides are 1 and the channels match. No bias anywhere but the classifier.
- the head: Conv2D(1x1, use_bias=False), BN, relu6, average pooling, dropout, Dense with a bias.
- BN keeps gamma and beta (trainable) and moving mean and variance (non-trainable).

For each lite model at its own resolution: trainable parameters, BN statistics (moving mean +
variance elements) and multiply-adds counted the standard way with forward hooks (Conv2d:
kh*kw*(cin/groups)*cout*Hout*Wout; Linear: in*out) at batch 1, by scripts/reference/counting.py
as for the torchvision and Keras figures.
"""
import json
import math
import re
import sys

import torch
from torch import nn

from counting import count

# efficientnet_lite_builder.efficientnet_lite_params: (width, depth, resolution, dropout).
PARAMS = {
    "efficientnet-lite0": (1.0, 1.0, 224, 0.2),
    "efficientnet-lite1": (1.0, 1.1, 240, 0.2),
    "efficientnet-lite2": (1.1, 1.2, 260, 0.3),
    "efficientnet-lite3": (1.2, 1.4, 280, 0.3),
    "efficientnet-lite4": (1.4, 1.8, 300, 0.3),
}
# efficientnet_lite_builder._DEFAULT_BLOCKS_ARGS (the se ratios are unused: use_se=False).
BLOCKS_ARGS = [
    "r1_k3_s11_e1_i32_o16_se0.25",
    "r2_k3_s22_e6_i16_o24_se0.25",
    "r2_k5_s22_e6_i24_o40_se0.25",
    "r3_k3_s22_e6_i40_o80_se0.25",
    "r3_k5_s11_e6_i80_o112_se0.25",
    "r4_k5_s22_e6_i112_o192_se0.25",
    "r1_k3_s11_e6_i192_o320_se0.25",
]
DIVISOR = 8
EPSILON = 1e-3


def decode(block_string):
    """efficientnet_builder.BlockDecoder._decode_block_string, for the fields used here."""
    fields = dict(re.split(r"(\d.*)", op)[:2] for op in block_string.split("_"))
    return {
        "kernel_size": int(fields["k"]),
        "num_repeat": int(fields["r"]),
        "input_filters": int(fields["i"]),
        "output_filters": int(fields["o"]),
        "expand_ratio": int(fields["e"]),
        "strides": int(fields["s"][0]),
    }


def round_filters(filters, width, skip=False):
    if skip or not width:
        return filters
    filters *= width
    new_filters = max(DIVISOR, int(filters + DIVISOR / 2) // DIVISOR * DIVISOR)
    if new_filters < 0.9 * filters:
        new_filters += DIVISOR
    return int(new_filters)


def round_repeats(repeats, depth, skip=False):
    if skip or not depth:
        return repeats
    return int(math.ceil(depth * repeats))


def same_padding(size, kernel, stride):
    """TensorFlow's `same`: out = ceil(size / stride), the extra row/column at the bottom/right."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv(nn.Module):
    """Conv2D / DepthwiseConv2D(padding="same", use_bias=False) as TensorFlow pads it."""

    def __init__(self, cin, cout, kernel, stride, groups=1):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv2d(cin, cout, kernel, stride, groups=groups, bias=False)

    def forward(self, x):
        top, bottom = same_padding(x.shape[2], self.kernel, self.stride)
        left, right = same_padding(x.shape[3], self.kernel, self.stride)
        return self.conv(nn.functional.pad(x, (left, right, top, bottom)))


def conv_bn(cin, cout, kernel, stride, groups=1, act=True):
    layers = [SameConv(cin, cout, kernel, stride, groups), nn.BatchNorm2d(cout, eps=EPSILON)]
    return layers + [nn.ReLU6()] if act else layers


class MBConvBlock(nn.Module):
    def __init__(self, cin, args):
        super().__init__()
        # The expansion width is input_filters * expand_ratio (the round_filters'd block arg);
        # the depthwise conv runs on the channels it is given.
        filters = args["input_filters"] * args["expand_ratio"]
        layers = conv_bn(cin, filters, 1, 1) if args["expand_ratio"] != 1 else []
        mid = filters if args["expand_ratio"] != 1 else cin
        layers += conv_bn(mid, mid, args["kernel_size"], args["strides"], groups=mid)
        layers += conv_bn(mid, args["output_filters"], 1, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.skip = args["strides"] == 1 and cin == args["output_filters"]

    def forward(self, x):
        y = self.body(x)
        return y + x if self.skip else y


def efficientnet_lite(width, depth, dropout, classes=1000):
    blocks_args = [decode(s) for s in BLOCKS_ARGS]
    stem = round_filters(32, width, skip=True)
    layers = conv_bn(3, stem, 3, 2)
    cin = stem
    for i, args in enumerate(blocks_args):
        fixed = i == 0 or i == len(blocks_args) - 1
        args = dict(
            args,
            input_filters=round_filters(args["input_filters"], width),
            output_filters=round_filters(args["output_filters"], width),
            num_repeat=args["num_repeat"] if fixed else round_repeats(args["num_repeat"], depth),
        )
        for r in range(args["num_repeat"]):
            if r > 0:
                args = dict(args, input_filters=args["output_filters"], strides=1)
            layers.append(MBConvBlock(cin, args))
            cin = args["output_filters"]
    head = round_filters(1280, width, skip=True)
    layers += conv_bn(cin, head, 1, 1)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Dropout(dropout), nn.Flatten(), nn.Linear(head, classes)]
    return nn.Sequential(*layers)


def figures(name):
    width, depth, resolution, dropout = PARAMS[name]
    torch.manual_seed(0)
    model = efficientnet_lite(width, depth, dropout).eval()
    counts, out = count(model, resolution)
    assert out.shape == (1, 1000)
    return {
        "width": width,
        "depth": depth,
        "resolution": resolution,
        "dropout": dropout,
        **counts,
    }


if __name__ == "__main__":
    out = {
        "source": f"tensorflow/tpu efficientnet/lite/efficientnet_lite_builder.py rebuilt in torch {torch.__version__} by scripts/reference/efficientnet_lite_figures.py, 1000 classes, batch 1",
        "models": {name: figures(name) for name in PARAMS},
    }
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
