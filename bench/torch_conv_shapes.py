"""PyTorch's side of the roofline table (issue 20, item 1): every 3x3 convolution shape of the
MNIST CNN and of CIFAR ResNet-32 at batch 128 (the shapes of `pgl-burn/benches/roofline.rs`),
forward and forward + backward (input and weight gradients), on 1 thread and on every core,
in GFLOP/s counted as that bench counts them (forward 2*N*Cout*OH*OW*Cin*9, backward twice
that).

Run: ~/.cache/pgl/torch-venv/bin/python bench/torch_conv_shapes.py [--json]
(the venv: python3 -m venv ~/.cache/pgl/torch-venv && ~/.cache/pgl/torch-venv/bin/pip install
torch --index-url https://download.pytorch.org/whl/cpu). Not part of CI or any test.
"""

import json
import os
import sys
import time

import torch
import torch.nn.functional as F

BATCH = 128
SHAPES = [
    ("cnn", 1, 28, 16, 1),
    ("cnn", 16, 28, 16, 2),
    ("cnn", 16, 14, 32, 1),
    ("cnn", 32, 14, 32, 2),
    ("cnn", 32, 7, 64, 1),
    ("cnn", 64, 7, 64, 1),
    ("cnn", 64, 7, 64, 2),
    ("cnn", 64, 4, 64, 1),
    ("resnet32", 3, 32, 16, 1),
    ("resnet32", 16, 32, 16, 1),
    ("resnet32", 16, 32, 32, 2),
    ("resnet32", 32, 16, 32, 1),
    ("resnet32", 32, 16, 64, 2),
    ("resnet32", 64, 8, 64, 1),
]


def flops(channels, side, out_channels, stride):
    out_side = (side + 2 - 3) // stride + 1
    return 2 * BATCH * out_channels * out_side * out_side * channels * 9


def seconds_per_call(fn, min_seconds=1.0):
    for _ in range(3):
        fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and calls >= 5:
            return elapsed / calls


def measure(threads):
    torch.set_num_threads(threads)
    rows = []
    for model, channels, side, out_channels, stride in SHAPES:
        x = torch.randn(BATCH, channels, side, side)
        w = (torch.randn(out_channels, channels, 3, 3) * 0.1).requires_grad_()

        def forward():
            with torch.no_grad():
                F.conv2d(x, w, stride=stride, padding=1)

        def forward_backward():
            xg = x.clone().requires_grad_()
            F.conv2d(xg, w, stride=stride, padding=1).sum().backward()
            w.grad = None

        f = flops(channels, side, out_channels, stride)
        rows.append(
            {
                "shape": f"{model}-{channels}x{side}-to-{out_channels}-s{stride}",
                "threads": threads,
                "forward_gflops": f / seconds_per_call(forward) / 1e9,
                "forward_backward_gflops": 3 * f / seconds_per_call(forward_backward) / 1e9,
            }
        )
    return rows


def main():
    rows = measure(1) + measure(os.cpu_count() or 1)
    if "--json" in sys.argv:
        print(json.dumps({"torch": torch.__version__, "rows": rows}, indent=1))
        return
    print(f"PyTorch {torch.__version__}, batch {BATCH}, GFLOP/s")
    print(f"{'shape':<28} {'threads':>7} {'forward':>8} {'fwd+bwd':>8}")
    for r in rows:
        print(
            f"{r['shape']:<28} {r['threads']:>7} {r['forward_gflops']:>8.1f} "
            f"{r['forward_backward_gflops']:>8.1f}"
        )


if __name__ == "__main__":
    main()
