"""How the reference scripts count a torch model, one rule for all of them.

trainable: the elements of every parameter that requires grad; bnStatistics: BatchNorm's
running_mean + running_var elements (num_batches_tracked is a counter, not a statistic);
macs: multiply-adds counted the standard way with forward hooks at batch 1 (Conv2d:
kh*kw*(cin/groups)*cout*Hout*Wout; Linear: in*out).
"""
import torch


def count(model, resolution):
    """The figures of `model` (in eval mode) on one zero image of resolution x resolution, and its output."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    bn_statistics = sum(
        b.numel() for n, b in model.named_buffers() if n.endswith("running_mean") or n.endswith("running_var")
    )
    macs = [0]

    def conv_hook(m, inputs, output):
        kh, kw = m.kernel_size
        macs[0] += kh * kw * (m.in_channels // m.groups) * m.out_channels * output.shape[2] * output.shape[3]

    def linear_hook(m, inputs, output):
        macs[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        output = model(torch.zeros(1, 3, resolution, resolution))
    for hook in hooks:
        hook.remove()
    return {"trainable": trainable, "bnStatistics": bn_statistics, "macs": macs[0]}, output
