"""Reference figures of torchvision's classification models, for test/reference/zoo.test.ts.

Run with Debian's python3-torchvision 0.14 (no downloads: weights=None):
    /usr/bin/python3 scripts/reference/torchvision_figures.py > test/reference/torchvision_figures.json

For each model: trainable parameters, BN running statistics (running_mean + running_var
elements; num_batches_tracked is a counter, not a statistic, and is left out), and
multiply-adds counted the standard way at 224x224 (or RESOLUTIONS) with forward hooks:
Conv2d: kh*kw*(cin/groups)*cout*Hout*Wout; Linear: in*out (scripts/reference/counting.py,
shared with the Keras and EfficientNet-lite rebuilds). For STATE_DICTS also every
state-dict tensor's name and shape.

Besides torchvision's own models, networks its classes build with other arguments (BUILDERS):
EfficientNet-B8 and -L2 (TF's efficientnet_builder params table), and the scaled MobileNetV2
and ResNet-50 of Tan & Le 2019, Table 3 (SCALED_MOBILENET_V2, SCALED_RESNET50).
"""
import json
import math
import re
import sys
from functools import partial

import torch
import torchvision.models as models
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.models.mobilenetv2 import MobileNetV2
from torchvision.models.resnet import Bottleneck, ResNet
from torchvision.models._utils import _make_divisible

from counting import count

MODELS = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "wide_resnet50_2",
    "resnext50_32x4d",
    "mobilenet_v3_large",
    "mobilenet_v3_large_w0.75",
    "mobilenet_v3_small",
    "mobilenet_v3_small_w0.75",
    "efficientnet_v2_s",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
    "mnasnet1_0",
    "mobilenet_v2",
    "mobilenet_v2_w0.5",
    "mobilenet_v2_w0.75",
    "mobilenet_v2_w1.4",
    *(f"regnet_x_{size}" for size in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    *(f"regnet_y_{size}" for size in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")),
    "efficientnet_b8_tf",
    "efficientnet_l2_tf",
    "mobilenet_v2_t3_d4",
    "mobilenet_v2_t3_w2",
    "mobilenet_v2_t3_r2",
    "mobilenet_v2_t3_compound",
    "resnet50_t3_d4",
    "resnet50_t3_w2",
    "resnet50_t3_r2",
    "resnet50_t3_compound",
]

# EfficientNet-B8 and -L2 of TF's TPU code (tensorflow/tpu models/official/efficientnet/
# efficientnet_builder.py, efficientnet_params: (width, depth, resolution, dropout)), which
# torchvision has no builder for: its EfficientNet class on _efficientnet_conf's B0 table with
# that width and depth. torchvision's rounding is TF's (efficientnet_model.py): adjust_channels
# is _make_divisible(c * w, 8) = round_filters (multiple of 8, never below 90 %), adjust_depth
# ceil(n * d) = round_repeats, the stem adjust_channels(32, w) = round_filters(32), SE
# max(1, cin // 4) = max(1, int(cin * 0.25)); only the head differs in general (torchvision
# 4 * adjust_channels(320, w), TF round_filters(1280)), and agrees at these two widths:
# 4 * 704 = 2816 = round_filters(1280) at 2.2, 4 * 1376 = 5504 at 4.3.
TF_EFFICIENTNET = {"efficientnet_b8_tf": (2.2, 3.6, 672, 0.5), "efficientnet_l2_tf": (4.3, 5.3, 800, 0.5)}

# Tan & Le 2019, Table 3 scales MobileNetV2 and ResNet-50 by d = 4, w = 2, r = 2 alone and by
# compound scaling, whose coefficients it prints only for MobileNetV1 (d 1.4, w 1.2, r 1.3).
# The compound rows here assume those same coefficients (EfficientNet's α², β², γ², φ = 2, to
# one decimal; see specs/mobilenetv2.effnet and specs/resnet50.effnet) with 224 * 1.3 = 291.2
# px taken to 288 as for MobileNetV1; layers ceil(n * d), channels by the spec's width rule.
# (name suffix: depth, width, resolution)
TABLE3 = {"t3_d4": (4.0, 1.0, 224), "t3_w2": (1.0, 2.0, 224), "t3_r2": (1.0, 1.0, 448), "t3_compound": (1.4, 1.2, 288)}

# torchvision mobilenetv2.py's default inverted_residual_setting: t, c, n, s.
MOBILENET_V2_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


def scaled_mobilenet_v2(depth, width):
    """torchvision's MobileNetV2 with width_mult and each stage's n as ceil(n * depth) (its stem and head are not repeated)."""
    setting = [[t, c, math.ceil(n * depth), s] for t, c, n, s in MOBILENET_V2_SETTING]
    return MobileNetV2(width_mult=width, inverted_residual_setting=setting)


class ScaledResNet(ResNet):
    """torchvision's ResNet-50 (its Bottleneck blocks and _make_layer) with every width scaled.

    torchvision's ResNet fixes its widths (the stem's 64, planes 64, 128, 256, 512, out =
    planes * 4), so the stem, the classifier and each _make_layer call take the scaled ones:
    each stage's output channels _make_divisible(out * width, 8) (specs/resnet50.effnet's
    `width round multiple 8 keep 0.9`), its planes a quarter of them (the spec's Bottleneck:
    inner width = channels / 4), the stem _make_divisible(64 * width, 8).
    """

    def __init__(self, layers, width):
        self._outs = iter(_make_divisible(out * width, 8) for out in (256, 512, 1024, 2048))
        self._stem = _make_divisible(64 * width, 8)
        super().__init__(Bottleneck, layers)
        self.conv1 = torch.nn.Conv2d(3, self._stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(self._stem)
        self.fc = torch.nn.Linear(self.inplanes, 1000)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if planes == 64:  # the first stage: its input is the scaled stem
            self.inplanes = self._stem
        return super()._make_layer(block, next(self._outs) // block.expansion, blocks, stride, dilate)


# Models built with arguments: NAME_wX is the builder NAME with width_mult=X.
BUILDERS = {
    **{f"mobilenet_v2_w{w}": partial(models.mobilenet_v2, width_mult=w) for w in (0.5, 0.75, 1.4)},
    **{
        name: partial(EfficientNet, _efficientnet_conf("efficientnet_b0", width_mult=w, depth_mult=d)[0], dropout)
        for name, (w, d, _, dropout) in TF_EFFICIENTNET.items()
    },
    **{f"mobilenet_v2_{row}": partial(scaled_mobilenet_v2, d, w) for row, (d, w, _) in TABLE3.items()},
    **{
        f"resnet50_{row}": partial(ScaledResNet, [math.ceil(n * d) for n in (3, 4, 6, 3)], w)
        for row, (d, w, _) in TABLE3.items()
    },
    # mobilenetv3.py _mobilenet_v3_conf: every width, the expanded ones and the hidden classifier
    # layer's last_channel = adjust_channels(1280 // reduce_divider) scale by width_mult.
    **{
        f"mobilenet_v3_{size}_w0.75": partial(getattr(models, f"mobilenet_v3_{size}"), width_mult=0.75)
        for size in ("large", "small")
    },
}
# Input side per model where it is not 224: the resolution of torchvision's eval transform
# for the model's weights (EfficientNet_V2_S_Weights: crop_size=384; _M_ and _L_Weights: 480),
# TF's params table's for B8 and L2, Table 3's rows'.
RESOLUTIONS = {
    "efficientnet_v2_s": 384,
    "efficientnet_v2_m": 480,
    "efficientnet_v2_l": 480,
    **{name: r for name, (_, _, r, _) in TF_EFFICIENTNET.items()},
    **{f"{net}_{row}": r for row, (_, _, r) in TABLE3.items() for net in ("mobilenet_v2", "resnet50")},
}
# Models whose state-dict names and shapes are listed too, for effnet's naming table (src/weights/naming.ts).
# One per naming family and the ResNets of specs/resnet.effnet (their blocks run past `z`: R152's
# 36 third-stage blocks are effnet's block3a … block3aj); the RegNets' names do not depend on size.
STATE_DICTS = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "regnet_x_400mf",
    "regnet_y_400mf",
    "mobilenet_v3_large",
    "mobilenet_v3_large_w0.75",
    "mobilenet_v3_small",
    "efficientnet_v2_s",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
    "mnasnet1_0",
]


def figures(name):
    torch.manual_seed(0)
    build = BUILDERS.get(name) or partial(getattr(models, name), weights=None)
    model = build().eval()
    resolution = RESOLUTIONS.get(name, 224)
    out, _ = count(model, resolution)
    out["resolution"] = resolution
    if name in STATE_DICTS:
        out["stateDict"] = {k: list(v.shape) for k, v in model.state_dict().items()}
    return out


if __name__ == "__main__":
    import torchvision

    out = {
        "source": f"torchvision {torchvision.__version__} (torch {torch.__version__}), weights=None, batch 1, 224x224 unless its resolution says otherwise",
        "models": {name: figures(name) for name in MODELS},
    }
    # A shape on one line ([24, 3, 3, 3]), so the file diffs by tensor and stays small.
    text = json.dumps(out, indent=2, sort_keys=True)
    text = re.sub(r"\[\s+([0-9,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    sys.stdout.write(text + "\n")
