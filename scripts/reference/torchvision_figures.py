"""Reference figures of torchvision's classification models, for test/reference/zoo.test.ts.

Run with Debian's python3-torchvision 0.14 (no downloads: weights=None):
    /usr/bin/python3 scripts/reference/torchvision_figures.py > test/reference/torchvision_figures.json

For each model: trainable parameters, BN running statistics (running_mean + running_var
elements; num_batches_tracked is a counter, not a statistic, and is left out), and
multiply-adds counted the standard way at 224x224 (or RESOLUTIONS) with forward hooks:
Conv2d: kh*kw*(cin/groups)*cout*Hout*Wout; Linear: in*out (scripts/reference/counting.py,
shared with the Keras and EfficientNet-lite rebuilds). For STATE_DICTS also every
state-dict tensor's name and shape.
"""
import json
import re
import sys

import torch
import torchvision.models as models

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
]
# Models built with arguments: NAME_wX is the builder NAME with width_mult=X.
BUILDERS = {
    **{f"mobilenet_v2_w{w}": ("mobilenet_v2", {"width_mult": w}) for w in (0.5, 0.75, 1.4)},
    # mobilenetv3.py _mobilenet_v3_conf: every width, the expanded ones and the hidden classifier
    # layer's last_channel = adjust_channels(1280 // reduce_divider) scale by width_mult.
    **{f"mobilenet_v3_{size}_w0.75": (f"mobilenet_v3_{size}", {"width_mult": 0.75}) for size in ("large", "small")},
}
# Input side per model where it is not 224: the resolution of torchvision's eval transform
# for the model's weights (EfficientNet_V2_S_Weights: crop_size=384; _M_ and _L_Weights: 480).
RESOLUTIONS = {"efficientnet_v2_s": 384, "efficientnet_v2_m": 480, "efficientnet_v2_l": 480}
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
    builder, kwargs = BUILDERS.get(name, (name, {}))
    model = getattr(models, builder)(weights=None, **kwargs).eval()
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
