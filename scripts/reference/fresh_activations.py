"""How a freshly initialised reference EfficientNet-B0 carries a random input, for issue 7's probe
and test/codegen/initialization.test.ts.

Run with Debian's python3-torchvision 0.14 (no downloads: weights=None):
    /usr/bin/python3 scripts/reference/fresh_activations.py > test/reference/fresh_activations.json

torchvision's efficientnet_b0() with its own initialisation (kaiming_normal_ fan_out for
convolutions, uniform(±1/sqrt(out)) for the classifier, BN weight 1, bias 0, running mean 0
and variance 1), seeded; input torch.rand(8, 3, 96, 96), seeded. For each mode, the mean
|activation| after the stem (features[0]) and after block7a (features[7][0], the last
block: its output is its project BN, no residual), their ratio, and the spread of the
softmax probabilities of each image (max - min). "eval" is inference mode with the fresh
running statistics (BN is then the identity up to 1/sqrt(1 + eps)); "train" normalises
with the batch's statistics.
"""
import json

import torch
import torchvision.models as models


def probe(mode):
    torch.manual_seed(0)
    model = models.efficientnet_b0(weights=None)
    model.train(mode == "train")
    torch.manual_seed(1)
    x = torch.rand(8, 3, 96, 96)
    seen = {}
    model.features[0].register_forward_hook(lambda m, i, o: seen.__setitem__("stem", o.abs().mean().item()))
    model.features[7][0].register_forward_hook(lambda m, i, o: seen.__setitem__("block7a", o.abs().mean().item()))
    with torch.no_grad():
        probabilities = torch.softmax(model(x), dim=1)
    spread = (probabilities.max(dim=1).values - probabilities.min(dim=1).values).tolist()
    return {
        "stem": seen["stem"],
        "block7a": seen["block7a"],
        "ratio": seen["block7a"] / seen["stem"],
        "probabilitySpread": {"min": min(spread), "max": max(spread)},
    }


print(json.dumps({"model": "torchvision 0.14 efficientnet_b0, fresh", "input": [8, 3, 96, 96],
                  "modes": {mode: probe(mode) for mode in ("eval", "train")}}, indent=2))
