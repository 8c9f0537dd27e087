"""Parameter counts of the public PyTorch code behind `recipes/*.toml`, part by part, for the
Rust test `pgl-cli/tests/recipe_params.rs`, which builds each recipe's model with pgl and
compares.

The counts come from the published code itself, imported as it is (nothing here re-implements
a network):

- InfoPro (`blackfeather-wang/InfoPro-Pytorch` at a38362a, folder `Experiments on
  CIFAR-SVHN-STL10/networks/`: `resnet.py`, `auxiliary_nets.py`, `configs.py`, `losses.py`):
  `resnet32`/`resnet110(local_module_num=K, aux_net_config='1c2f', local_loss_mode=...,
  aux_net_feature_dim=128)` as `comand.sh` runs them. Its masks call `.cuda()`; on a CPU-only
  PyTorch this script makes that a no-op.
- DGL (`eugenium/DGL` at 4cc7c17, `ddg_comparison/models.py`): `Net(depth=110,
  num_splits=K)`, the ResNet-110 of its CIFAR-10 comparison with DDG. That code builds its
  MLP-SR auxiliary network for K = 2 only (`input_features=32, in_size=16`, "hard coded for K=2
  example as in DDG paper"); for K = 4 and 8 this script gives each module the same network on
  its own output (channels and size measured by a forward pass), which is what pgl's recipes
  for those K do.

Usage (PyTorch on the CPU is enough):

    python3 bench/reference/recipe_params.py INFOPRO_NETWORKS_DIR DGL_DDG_DIR > bench/reference/recipe_params.json

where INFOPRO_NETWORKS_DIR holds InfoPro's `networks/` folder (the four files and an empty
`__init__.py`) and DGL_DDG_DIR DGL's `ddg_comparison/models.py`. Output generated with
PyTorch 2.15 is committed next to this script.

Each entry: the network (body and classifier), the K − 1 auxiliary classifiers with class
outputs (`aux_ce`: InfoPro's `AuxClassifier` in `cross_entropy` mode; DGL's auxiliary nets),
InfoPro's decoders and its contrastive heads (`AuxClassifier` in `contrast` mode, 128
outputs; also per module, in module order: InfoPro builds both for every auxiliary module,
also where their weight is 0, pgl only where it is not), and parameters the reference holds but never uses (`unused`: DGL's auxiliary `bn`,
applied only when the network has no MLP). For DGL also the split points as pgl's unit indices
(stem = unit 0, residual block i = unit i + 1).
"""

import contextlib
import json
import math
import os
import sys

import torch
import torch.nn as nn


def count(module):
    return sum(p.numel() for p in module.parameters())


def infopro(networks_dir, depth, modules):
    sys.path.insert(0, os.path.dirname(os.path.abspath(networks_dir)))
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # CPU-only PyTorch
    import networks.resnet as resnet  # noqa: E402

    def build(mode):
        return getattr(resnet, f"resnet{depth}")(
            local_module_num=modules,
            batch_size=1024,
            image_size=32,
            balanced_memory=False,
            dataset="cifar10",
            class_num=10,
            wide_list=(16, 16, 32, 64),
            dropout_rate=0,
            aux_net_config="1c2f",
            local_loss_mode=mode,
            aux_net_widen=1,
            aux_net_feature_dim=128,
        )

    contrast, cross_entropy = build("contrast"), build("cross_entropy")

    def part(net, prefix):
        return sum(
            count(m) for name, m in net.named_children() if name.startswith(prefix)
        )

    network = sum(
        count(m)
        for name, m in contrast.named_children()
        if not name.startswith(("decoder_", "aux_classifier_"))
    )
    def per_module(net, prefix):
        return [count(m) for name, m in net.named_children() if name.startswith(prefix)]

    return {
        "network": network,
        "aux_ce": part(cross_entropy, "aux_classifier_"),
        "decoders": part(contrast, "decoder_"),
        "contrastive_heads": part(contrast, "aux_classifier_"),
        "decoders_per_module": per_module(contrast, "decoder_"),
        "contrastive_heads_per_module": per_module(contrast, "aux_classifier_"),
        "unused": 0,
    }


def dgl(ddg_dir, modules):
    sys.path.insert(0, os.path.abspath(ddg_dir))
    import models  # noqa: E402

    with contextlib.redirect_stdout(sys.stderr):  # it prints its depth
        net = models.Net(depth=110, num_classes=10, num_splits=modules)
    # pgl's unit index of the first block of each module after the first.
    layers = 3 + 3 * 18 + 1  # conv, bn, relu, 54 blocks, avgpool: CifarResNet.layers
    depth = math.ceil(layers / modules)
    points = [j * depth - 2 for j in range(1, modules)]
    aux = list(net.auxillary_nets)[:-1]
    if modules > 2:
        x = torch.zeros(2, 3, 32, 32)
        aux = []
        for block in list(net.main_cnn.blocks)[:-1]:
            x = block(x)
            aux.append(
                models.auxillary_classifier2(
                    input_features=x.shape[1], in_size=x.shape[2], num_classes=10,
                    n_lin=3, mlp_layers=3,
                )
            )
    return {
        "network": count(net.main_cnn) + count(net.auxillary_nets[-1]),
        "aux_ce": sum(count(a) for a in aux),
        "decoders": 0,
        "contrastive_heads": 0,
        "unused": sum(count(a.bn) for a in aux if a.mlp),
        "split_points": points,
    }


def main():
    infopro_dir, dgl_dir = sys.argv[1], sys.argv[2]
    out = {}
    for depth in (32, 110):
        for k in (2, 4, 8, 16):
            out[f"infopro-resnet{depth}-k{k}"] = infopro(infopro_dir, depth, k)
    for k in (2, 4, 8):
        out[f"dgl-resnet110-k{k}"] = dgl(dgl_dir, k)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
