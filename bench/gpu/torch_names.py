"""The PyTorch reference models of torch_reference.py as one nn.Module each, and the lists of
their state_dict names and shapes that `pgl export --names pytorch` must write.

`ReferenceNet` holds a decoupled network the way `pgl export --names pytorch` names it: module k
is `stages[k]`, its head (auxiliary head, or the classifier for the last module) `heads[k]`.

    python3 bench/gpu/torch_names.py        # rewrites bench/gpu/torch_names/*.txt

The lists were generated once with this script (PyTorch 2.15) and are committed; the test
`pgl-cli/tests/export.rs` checks that pgl's export matches them exactly. Each line is
`name<TAB>shape<TAB>dtype`, in state_dict order.
"""

import os
import sys

import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference  # noqa: E402

# `(list name, model, K, aux head, shortcut)`: the defaults of `pgl train` (digits CNN, K = 4,
# 1c2f heads; the names do not depend on the image size), the same CNN with pool2-1f heads,
# and the GPU bench's ResNet-32 (InfoPro's K = 16 split, 1c2f heads) with option-A and
# option-B shortcuts, 10 classes.
CONFIGS = [
    ("cnn_k4_1c2f", "cnn", 4, "1c2f", "option-a"),
    ("cnn_k4_pool2_1f", "cnn", 4, "pool2-1f", "option-a"),
    ("resnet32_k16_infopro_1c2f", "resnet32", 16, "1c2f", "option-a"),
    ("resnet32_k16_infopro_1c2f_option_b", "resnet32", 16, "1c2f", "option-b"),
]

# The CNN's `(channels, wants stride 2)` per block, as in torch_reference.cnn.
CNN_BLOCKS = [(16, False), (16, True), (32, False), (32, True), (64, False), (64, False), (64, True), (64, False)]


class ReferenceNet(nn.Module):
    """A decoupled network: `stages[k]` is module k, `heads[k]` its head (the last is the
    network's classifier). `forward` gives the classifier's logits."""

    def __init__(self, stages, heads):
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.heads = nn.ModuleList(heads)

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return self.heads[-1](x)

    def module_logits(self, x):
        """The logits of every module's head, in order (the last is the network's)."""
        out = []
        for stage, head in zip(self.stages, self.heads):
            x = stage(x)
            out.append(head(x))
        return out


def _restride_cnn(stages, side):
    """torch_reference.cnn builds the CNN for 28x28 images; pgl keeps stride 1 once the feature
    map is 4x4 or smaller, so on other sizes (the 8x8 digits) some strides differ. Weights and
    names do not depend on it."""
    convs = [m for stage in stages for m in stage.modules() if isinstance(m, nn.Conv2d)]
    size = side
    for conv, (_, wants_stride) in zip(convs, CNN_BLOCKS):
        stride = 2 if wants_stride and size > 4 else 1
        conv.stride = (stride, stride)
        size = (size + 1) // 2 if stride == 2 else size


class PglBasicBlock(torch_reference.BasicBlock):
    """torch_reference.BasicBlock with pgl's option-A shortcut: where the width doubles, the
    zero channels go half before and half after the input's (pgl-models/src/residual.rs, as
    in the usual CIFAR ResNet code), not all after it. Same parameters; the reference's own
    placement only matters for its timing, but evaluating pgl's weights needs pgl's."""

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad // 2, self.pad // 2))
        return F.relu(out + shortcut)


class PglBasicBlockB(torch_reference.BasicBlock):
    """torch_reference.BasicBlock with the option-B shortcut where the shape changes: a 1x1
    convolution with the block's stride and a BatchNorm, named `downsample.0` and
    `downsample.1` as in InfoPro's and torchvision's ResNets (`pgl --shortcut option-b`)."""

    def add_downsample(self):
        if self.stride > 1 or self.pad:
            cin, cout = self.conv1.in_channels, self.conv1.out_channels
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, self.stride, bias=False), nn.BatchNorm2d(cout)
            )
        return self

    def forward(self, x):
        if not hasattr(self, "downsample"):
            return PglBasicBlock.forward(self, x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.downsample(x))


def _set_input_channels(stages, channels):
    """The reference builds the CNN for 1 channel and ResNet-32 for 3; pgl builds both for the
    dataset's channels. Replaces the first convolution by one with `channels` inputs."""
    stem = stages[0][0] if isinstance(stages[0][0], nn.Sequential) else stages[0]
    conv = stem[0]
    if conv.in_channels != channels:
        stem[0] = nn.Conv2d(channels, conv.out_channels, 3, conv.stride, 1, bias=False)


def reference_net(model, modules, classes=10, side=None, channels=None, shortcut="option-a", aux_head="1c2f"):
    """The reference `model` ("cnn" or "resnet32") with K = `modules`, for `classes` classes,
    (CNN only) square images of `side` pixels (default 28) and `aux_head` heads ("1c2f" or
    "pool2-1f"; ResNet-32 has 1c2f), images of `channels` channels (default: the reference's,
    1 for the CNN and 3 for ResNet-32) and (ResNet-32 only) the `shortcut` of blocks that
    change shape ("option-a" or "option-b")."""
    if model == "cnn":
        stages, heads, _ = torch_reference.cnn(modules, classes, aux_head)
        if side is not None:
            _restride_cnn(stages, side)
    elif model == "resnet32":
        stages, heads, _ = torch_reference.resnet32(modules, classes)
        for stage in stages:
            if isinstance(stage, torch_reference.BasicBlock):
                if shortcut == "option-b":
                    stage.__class__ = PglBasicBlockB
                    stage.add_downsample()
                else:
                    stage.__class__ = PglBasicBlock
    else:
        raise ValueError(f"the reference defines cnn and resnet32, not {model}")
    if channels is not None:
        _set_input_channels(stages, channels)
    return ReferenceNet(stages, heads)


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_names")
    os.makedirs(out_dir, exist_ok=True)
    for name, model, modules, aux_head, shortcut in CONFIGS:
        net = reference_net(model, modules, shortcut=shortcut, aux_head=aux_head)
        lines = [
            f"{key}\t{list(value.shape)}\t{str(value.dtype).removeprefix('torch.')}"
            for key, value in net.state_dict().items()
        ]
        path = os.path.join(out_dir, f"{name}.txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{path}: {len(lines)} tensors")


if __name__ == "__main__":
    main()
