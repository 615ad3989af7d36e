"""Parameter counts and multiply-adds of torchvision's reference models, for the figures
effnet's audit is tested against (test/cost/published.test.ts). Debian's python3-torch 1.13
and python3-torchvision 0.14, weights=None (no downloads). Parameters are
sum(p.numel() for p in model.parameters()) (trainable; BN running statistics are buffers);
multiply-adds are counted with forward hooks on Conv2d (output elements x k*k*C_in/groups)
and Linear (in x out) at batch 1, 224x224, torchvision's convention for `_ops`.

    /usr/bin/python3 scripts/reference/torchvision_params.py > scripts/reference/torchvision_params.json
"""
import json

import torch
import torchvision

MODELS = ["resnet50", "resnet152", "efficientnet_b1"]


def count(name):
    model = getattr(torchvision.models, name)(weights=None).eval()
    macs = [0]

    def conv(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        macs[0] += output.numel() * k * module.in_channels // module.groups

    def linear(module, inputs, output):
        macs[0] += module.in_features * module.out_features

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(conv)
        elif isinstance(m, torch.nn.Linear):
            m.register_forward_hook(linear)
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return {"params": sum(p.numel() for p in model.parameters()), "macs": macs[0]}


print(json.dumps({"torchvision": torchvision.__version__, "models": {n: count(n) for n in MODELS}}, indent=2))
