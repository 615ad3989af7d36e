"""torchinfo's "Forward/backward pass size" for torchvision's EfficientNet-B0 at 224 px, batch 1: twice the
output bytes of every leaf module that has parameters (torchinfo/model_statistics.py). Run with
Debian's python3-torch/torchvision: /usr/bin/python3 test/report/reference/torchinfo_sizes.py >
test/report/reference/torchinfo_sizes.txt (no weights are downloaded)."""
import torch, torchvision
m = torchvision.models.efficientnet_b0().eval()
tot = [0]
def hook(mod, i, o):
    if sum(p.numel() for p in mod.parameters(recurse=False)) > 0:
        tot[0] += o.numel() * 4 * 2
for mod in m.modules():
    if len(list(mod.children())) == 0:
        mod.register_forward_hook(hook)
with torch.no_grad():
    m(torch.zeros(1, 3, 224, 224))
print("forward/backward MB", round(tot[0] / 1e6, 2))
