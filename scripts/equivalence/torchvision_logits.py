"""torchvision's logits for effnet's equivalence cases (test/weights/equivalence.test.ts).

Reads DIR/manifest.json and the seeded weights and inputs that write-weights.ts wrote,
loads each file into torchvision's own model with load_state_dict(strict=True) (so every
tensor name and shape must be torchvision's), runs it in eval mode on the input after
torchvision's preprocessing (ToTensor's /255, Normalize with ImageNet mean and std), and
writes the logits to the fixture the manifest names. Debian's python3-torch 1.13 and
python3-torchvision 0.14, no downloads (weights=None). safetensors is read here with the
standard library: 8-byte little-endian header length, JSON header, raw data.

    /usr/bin/python3 scripts/equivalence/torchvision_logits.py DIR
"""
import collections
import json
import os
import re
import struct
import sys

import torch
import torchvision

DTYPES = {"F32": torch.float32, "I64": torch.int64}


class TensorFlowSame(torch.nn.Module):
    """A strided conv padded as Keras's efficientnet.py pads it: ZeroPadding2D(correct_pad(x, k))
    and `valid` (imagenet_utils.correct_pad: adjust = 1 - size % 2, pads (k//2 - adjust, k//2)),
    which is TensorFlow's `same`: one more row/column at the bottom/right for even sizes."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        self.conv.padding = (0, 0)

    def forward(self, x):
        k = self.conv.kernel_size[0] // 2
        h, w = x.shape[2], x.shape[3]
        return self.conv(torch.nn.functional.pad(x, (k - (1 - w % 2), k, k - (1 - h % 2), k)))


def with_keras_conventions(model):
    """torchvision's modules with Keras's conventions (the same layers and weights): TF `same`
    padding of strided convs, BatchNormalization epsilon 1e-3, softmax on the classifier.
    Keras's input Normalization holds ImageNet's mean and variance, torchvision's Normalize."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Conv2d) and child.stride != (1, 1) and child.kernel_size != (1, 1):
                setattr(parent, name, TensorFlowSame(child))
            elif isinstance(child, torch.nn.BatchNorm2d):
                child.eps = 1e-3
    return torch.nn.Sequential(model, torch.nn.Softmax(dim=1))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[entry["dtype"]])
        tensors[key] = t.reshape(entry["shape"]).clone()
    return tensors


def main(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    torch.set_grad_enabled(False)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    cases = {}
    for case in manifest["cases"]:
        model = getattr(torchvision.models, case["torchvision"])(weights=None)
        state = collections.OrderedDict(read_safetensors(os.path.join(directory, case["weights"])))
        # A state dict carries each module's version beside the tensors (safetensors has no
        # place for it); MNASNet's _load_from_state_dict refuses one without (mnasnet.py: version
        # 2 is the current layout, which the tensors here follow). The model's own are the ones.
        state._metadata = model.state_dict()._metadata
        model.load_state_dict(state, strict=True)
        if case["convention"] == "keras":
            model = with_keras_conventions(model)
        model.eval()
        pixels = read_safetensors(os.path.join(directory, case["input"]))["pixels"]  # NHWC, 0..255
        x = (pixels.permute(0, 3, 1, 2) / 255.0 - mean) / std
        logits = model(x)
        cases[case["name"]] = {
            "torchvision": case["torchvision"],
            "spec": case["spec"],
            "variant": case["variant"],
            "convention": case["convention"],
            "resolution": case["resolution"],
            "seed": case["seed"],
            "weightsSha256": case["sha256"],
            # float32 values, printed with 9 significant digits: exact to float32. Probabilities under Keras's convention.
            "logits": [[float("%.9g" % v) for v in row] for row in logits.tolist()],
        }
        print(case["name"], tuple(logits.shape), "max |logit| %.4g" % logits.abs().max().item())
    fixture = {
        "generatedBy": "scripts/equivalence/torchvision_logits.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "batch": manifest["batch"],
        "inputSeed": manifest["inputSeed"],
        "cases": cases,
    }
    # One line per row of numbers, so the file diffs by case and by image.
    text = json.dumps(fixture, indent=1)
    text = re.sub(r"\[\s+([-+0-9.e,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(manifest["fixture"], "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
