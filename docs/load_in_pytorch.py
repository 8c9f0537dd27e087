"""Load a `pgl export` file into the PyTorch reference model and evaluate it.

    pgl train --out runs/digits                        # the default: digits, cnn, K=4
    pgl export runs/digits --out digits.safetensors     # PyTorch names (--names pytorch)
    python3 docs/load_in_pytorch.py digits.safetensors
    python3 docs/load_in_pytorch.py mnist.safetensors --data-dir ~/data/mnist [--test-limit N]

Needs `torch` and `safetensors` (pip install torch safetensors). The model comes from
bench/gpu/torch_names.py (the classes of bench/gpu/torch_reference.py in one nn.Module:
`stages[k]` is module k, `heads[k]` its head, the last head is the classifier); what to build
is read from the file's metadata, which `pgl export` writes. The test images are pgl's,
normalised exactly as pgl-data does: the embedded digits (split as pgl splits them, see
digits_test_set) or the MNIST / Fashion-MNIST test files, so the figures printed are those of
`pgl eval --checkpoint RUN [--test-limit N]`. For other data, feed your own tensors,
normalised as pgl normalised them, to `net` / `net.module_logits`.
"""

import argparse
import gzip
import os
import struct
import sys

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench", "gpu"))
from torch_names import reference_net  # noqa: E402

MASK = (1 << 64) - 1
SPLIT_SEED = 0x5EED_D161  # pgl-data/src/digits.rs
TEST_SIZE = 360


class SplitMix64:
    """pgl-data's generator (pgl-data/src/rng.rs), bit for bit."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        zone = MASK - (MASK % n)
        while True:
            x = self.next()
            if x < zone:
                return x % n

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def f32(x):
    """`x` rounded to float32, as Rust's f32 arithmetic does after every operation."""
    return struct.unpack("f", struct.pack("f", x))[0]


def digits_test_set():
    """pgl's 360 digits test images (normalised with the training split's mean and std, in
    float32 like pgl-data) and their labels."""
    path = os.path.join(ROOT, "pgl-data", "data", "digits", "digits.csv.gz")
    rows = [line.split(",") for line in gzip.decompress(open(path, "rb").read()).decode().splitlines() if line.strip()]
    pixels = [[int(float(v)) for v in row[:64]] for row in rows]
    labels = [int(float(row[64])) for row in rows]
    order = list(range(len(rows)))
    SplitMix64(SPLIT_SEED).shuffle(order)
    train, test = order[: len(order) - TEST_SIZE], order[len(order) - TEST_SIZE :]
    scaled = [f32(p / 16.0) for i in train for p in pixels[i]]
    total = 0.0
    for x in scaled:
        total = f32(total + x)
    mean = f32(total / len(scaled))
    total = 0.0
    for x in scaled:
        d = f32(x - mean)
        total = f32(total + f32(d * d))
    std = max(f32(f32(total / len(scaled)) ** 0.5), 1e-6)
    x = torch.tensor([pixels[i] for i in test], dtype=torch.float32).reshape(-1, 1, 8, 8)
    x = (x / 16.0 - mean) / std
    y = torch.tensor([labels[i] for i in test])
    return x, y


# `(mean, std)` of the scaled pixels, as pgl-data/src/idx.rs normalises them.
IDX_STATS = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}


def idx_test_set(dataset, data_dir):
    """The MNIST-style test files (`t10k-*-idx*-ubyte`, raw or .gz) of `data_dir`."""

    def read(stem):
        for name in (stem, stem + ".gz"):
            path = os.path.join(data_dir, name)
            if os.path.exists(path):
                data = open(path, "rb").read()
                return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        sys.exit(f"{data_dir}: no {stem}[.gz]")

    images, labels = read("t10k-images-idx3-ubyte"), read("t10k-labels-idx1-ubyte")
    count = struct.unpack(">I", images[4:8])[0]
    mean, std = IDX_STATS[dataset]
    x = torch.frombuffer(bytearray(images[16:]), dtype=torch.uint8).reshape(count, 1, 28, 28)
    x = (x.float() / 255.0 - mean) / std
    y = torch.frombuffer(bytearray(labels[8:]), dtype=torch.uint8).long()
    return x, y


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", help="a file written by `pgl export --names pytorch`")
    p.add_argument("--data-dir", help="folder with the MNIST / Fashion-MNIST files")
    p.add_argument("--test-limit", type=int, help="the first N test images only")
    a = p.parse_args()
    with safe_open(a.file, "pt") as f:
        meta = f.metadata()
    if meta.get("pgl.names") != "pytorch":
        sys.exit(f"{a.file}: not written with --names pytorch")
    dataset = meta.get("pgl.dataset")
    if dataset == "digits":
        x, y = digits_test_set()
    elif dataset in IDX_STATS and a.data_dir:
        x, y = idx_test_set(dataset, a.data_dir)
    else:
        sys.exit(f"{a.file}: trained on {dataset}; this script reads digits, or mnist/fashion-mnist with --data-dir")
    if a.test_limit:
        x, y = x[: a.test_limit], y[: a.test_limit]
    channels, side, _ = (int(v) for v in meta["pgl.input"].split("x"))
    net = reference_net(
        meta["pgl.model"], int(meta["pgl.modules"]), int(meta["pgl.classes"]), side, channels,
        aux_head=meta.get("pgl.aux_head", "1c2f"),
    )
    net.load_state_dict(load_file(a.file), strict=True)
    net.eval()
    with torch.no_grad():
        logits = net.module_logits(x)
    accuracy = [(out.argmax(1) == y).float().mean().item() for out in logits]
    loss = F.cross_entropy(logits[-1], y).item()
    print(f"{a.file}: {meta['pgl.model']} K={meta['pgl.modules']} in PyTorch {torch.__version__}, {len(y)} test images")
    print(f"test accuracy {accuracy[-1]:.4f}, test loss {loss:.4f}")
    for k, acc in enumerate(accuracy):
        print(f"  module {k + 1:>2} ({'classifier' if k + 1 == len(accuracy) else 'aux head'}): {acc:.4f}")


if __name__ == "__main__":
    main()
