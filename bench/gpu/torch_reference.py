"""PyTorch reference for bench/gpu/run.sh: the same models, splits, heads, batch and optimizer
as `pgl bench`, timed the same way (local steps: each module on the detached output of the
previous one, its own head's loss, backward and update at once; global steps: end-to-end
backprop of the classifier's loss). Prints one Markdown table row.

    python3 bench/gpu/torch_reference.py --model resnet32 --modules 16 --batch-size 1024 --steps 8
    python3 bench/gpu/torch_reference.py --model cnn --aux-head pool2-1f --modules 4 --batch-size 128

The CNN's auxiliary heads are `1c2f` (pgl's default for it) or `pool2-1f` (`--aux-head`; the
speed benchmarks pin `pool2-1f`, the head their earlier tables were measured with).
"""

import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


def pool_linear_head(channels, size, classes):
    """pgl's `pool2-1f` head (size 2) and the CNN's classifier."""
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(size), nn.Flatten(), nn.Linear(channels * size * size, classes)
    )


def one_conv_two_fc_head(channels, classes):
    """InfoPro's `1c2f` head, as pgl builds it."""
    out, stride = (2 * channels, 2) if channels < 64 else (channels, 1)
    return nn.Sequential(
        nn.Conv2d(channels, out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(out),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(out, 128),
        nn.ReLU(),
        nn.Linear(128, classes),
    )


class BasicBlock(nn.Module):
    """CIFAR ResNet basic block with the option-A (zero-padded identity) shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.pad))
        return F.relu(out + shortcut)


CNN_HEADS = ("1c2f", "pool2-1f")


def cnn(modules, classes=10, aux_head="1c2f"):
    """pgl's MNIST CNN (28x28x1): 8 conv-BN-ReLU blocks, cut evenly, `aux_head` heads (`1c2f`,
    pgl's default, or `pool2-1f`) on every module but the last, whose head is the classifier
    (2x2 average pool, linear)."""
    if aux_head not in CNN_HEADS:
        raise ValueError(f"the reference CNN has {' or '.join(CNN_HEADS)} heads, not {aux_head}")
    widths = [(16, False), (16, True), (32, False), (32, True), (64, False), (64, False), (64, True), (64, False)]
    blocks, cin, size = [], 1, 28
    for cout, wants_stride in widths:
        stride = 2 if wants_stride and size > 4 else 1
        blocks.append((conv_bn_relu(cin, cout, stride), cout))
        cin, size = cout, (size + 1) // stride if stride == 2 else size
    per = len(blocks) // modules
    assert per * modules == len(blocks), "use a K that divides 8"
    stages, heads = [], []
    for k in range(modules):
        part = blocks[k * per : (k + 1) * per]
        stages.append(nn.Sequential(*[b for b, _ in part]))
        channels, last = part[-1][1], k == modules - 1
        if last or aux_head == "pool2-1f":
            heads.append(pool_linear_head(channels, 2, classes))
        else:
            heads.append(one_conv_two_fc_head(channels, classes))
    return stages, heads, (1, 28, 28)


def resnet32(modules, classes=10):
    """CIFAR ResNet-32 with InfoPro's K=16 split (one unit per module) and 1c2f heads."""
    assert modules == 16, "the reference implements InfoPro's K=16 split only"
    units = [(conv_bn_relu(3, 16, 1), 16)]
    cin = 16
    for stage, cout in enumerate([16, 32, 64]):
        for block in range(5):
            stride = 2 if stage > 0 and block == 0 else 1
            units.append((BasicBlock(cin, cout, stride), cout))
            cin = cout
    stages = [u for u, _ in units]
    heads = [one_conv_two_fc_head(c, classes) for _, c in units[:-1]]
    heads.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)))
    return stages, heads, (3, 32, 32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["cnn", "resnet32"], required=True)
    p.add_argument("--modules", type=int, required=True)
    p.add_argument("--aux-head", choices=CNN_HEADS, default="1c2f", help="the CNN's aux heads")
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--name", default="")
    p.add_argument("--json", action="store_true", help="print one JSON object (bench/bench-vs-torch.sh)")
    a = p.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(42)
    if a.model == "cnn":
        stages, heads, shape = cnn(a.modules, aux_head=a.aux_head)
    else:
        stages, heads, shape = resnet32(a.modules)
    stages = [s.to(device) for s in stages]
    heads = [h.to(device) for h in heads]

    def optimizer(params):
        # The settings `bench/gpu/run.sh` gives pgl: Adam 1e-3 (CNN), SGD 0.1 momentum 0.9 (ResNet).
        if a.model == "cnn":
            return torch.optim.Adam(params, lr=1e-3)
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)

    per_module = [optimizer(list(s.parameters()) + list(h.parameters())) for s, h in zip(stages, heads)]
    x = torch.randn(a.batch_size, *shape, device=device)
    y = torch.randint(0, 10, (a.batch_size,), device=device)

    def local_step():
        h = x
        for stage, head, opt in zip(stages, heads, per_module):
            h = stage(h.detach())
            loss = F.cross_entropy(head(h), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def global_step():
        h = x
        for stage in stages:
            h = stage(h)
        loss = F.cross_entropy(heads[-1](h), y)
        for opt in per_module:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in per_module:
            opt.step()

    def measure(step):
        for _ in range(a.warmup_steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
        return a.steps * a.batch_size / seconds, peak

    local, local_peak = measure(local_step)
    glob, global_peak = measure(global_step)
    if a.json:
        print(json.dumps({"torch": torch.__version__, "device": device.type,
                          "threads": torch.get_num_threads(), "local": local, "global": glob}))
        return
    print(
        f"| {a.name or a.model} | PyTorch {torch.__version__} ({device.type}) | {local:.0f} im/s, "
        f"peak {local_peak:.0f} MiB | {glob:.0f} im/s, peak {global_peak:.0f} MiB | "
        f"batch {a.batch_size}, {a.steps} timed steps, peak = max_memory_allocated |"
    )


if __name__ == "__main__":
    main()
