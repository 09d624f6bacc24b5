#!/usr/bin/env python3
"""Generates ops_forward.safetensors: seeded inputs and PyTorch outputs for every forward op of the tensor module.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_ops_forward.py
Each case <name> stores inputs <name>.in0, <name>.in1, ... and outputs <name>.out (and <name>.idx for max pooling).
The Java test OpsForwardGoldenTest replays the same op with the same parameters; keep the two lists in step.
safetensors is written by hand with numpy (Debian has no python3-safetensors): 8-byte little-endian header length,
JSON header, raw little-endian data.
"""
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5] / "tools" / "fixtures"))
from safetensors_np import write_safetensors  # noqa: E402

torch.manual_seed(1234)
cases = {}


def rn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


def add(name, inputs, outputs):
    for i, t in enumerate(inputs):
        cases[f"{name}.in{i}"] = t
    if isinstance(outputs, torch.Tensor):
        outputs = {"out": outputs}
    for k, t in outputs.items():
        cases[f"{name}.{k}"] = t


# Elementwise unary: one awkward shape (not a multiple of any vector width).
x = rn(3, 7, 5)
pos = x.abs() + 0.1
unary = {
    "neg": (x, -x), "exp": (x, x.exp()), "log": (pos, pos.log()), "sqrt": (pos, pos.sqrt()),
    "rsqrt": (pos, pos.rsqrt()), "abs": (x, x.abs()), "tanh": (x, x.tanh()), "sigmoid": (x, x.sigmoid()),
    "silu": (x, F.silu(x)), "gelu": (x, F.gelu(x)), "gelu_tanh": (x, F.gelu(x, approximate="tanh")),
    "relu": (x, F.relu(x)), "square": (x, x.square()), "sin": (x, x.sin()), "cos": (x, x.cos()),
    "reciprocal": (pos, pos.reciprocal()), "pow_scalar": (pos, pos.pow(2.5)), "clamp": (x, x.clamp(-0.5, 0.7)),
    "leaky_relu": (x, F.leaky_relu(x, 0.1)), "sign": (x, x.sign()),
}
for k, (i, o) in unary.items():
    add("unary_" + k, [i], o)

# Elementwise binary with broadcasting [3,1,5] op [4,1].
a, b = rn(3, 1, 5), rn(4, 1)
bpos = b.abs() + 0.5
add("binary_add", [a, b], a + b)
add("binary_sub", [a, b], a - b)
add("binary_mul", [a, b], a * b)
add("binary_div", [a, bpos], a / bpos)
add("binary_pow", [a.abs() + 0.1, b], (a.abs() + 0.1).pow(b))
add("binary_maximum", [a, b], torch.maximum(a, b))
add("binary_minimum", [a, b], torch.minimum(a, b))
add("where", [a, b], torch.where(a > b, a, b))

# Reductions over [4, 6, 5].
r = rn(4, 6, 5)
add("sum_02_keep", [r], r.sum(dim=(0, 2), keepdim=True))
add("mean_1", [r], r.mean(dim=1))
add("max_last", [r], r.amax(dim=-1))
add("min_0", [r], r.amin(dim=0))
add("var_1", [r], r.var(dim=1, unbiased=True))
add("logsumexp_2", [r], r.logsumexp(dim=2))
add("argmax_1", [r], r.argmax(dim=1))

# Matmul: batched with broadcast, and a transposed operand.
m1, m2 = rn(2, 5, 7), rn(7, 3)
add("matmul_batched", [m1, m2], m1 @ m2)
mt_a, mt_b = rn(7, 5), rn(3, 7)  # computes mt_a^T @ mt_b^T : [5, 3]
add("matmul_transposed", [mt_a, mt_b], mt_a.t() @ mt_b.t())

# Convolutions.
cx, cw, cb = rn(2, 4, 9, 7), rn(6, 2, 3, 3), rn(6)
add("conv2d", [cx, cw, cb], F.conv2d(cx, cw, cb, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2))
tx, tw, tb = rn(2, 4, 5, 6), rn(4, 3, 3, 3), rn(3)
add("conv_transpose2d", [tx, tw, tb], F.conv_transpose2d(tx, tw, tb, stride=2, padding=1, output_padding=1))

# Pooling and resizing.
px = rn(2, 3, 7, 8)
add("avg_pool2d", [px], F.avg_pool2d(px, 3, stride=2, padding=1))
mv, mi = F.max_pool2d(px, 3, stride=2, padding=1, return_indices=True)
add("max_pool2d", [px], {"out": mv, "idx": mi})
ux = rn(2, 3, 5, 7)
add("nearest", [ux], F.interpolate(ux, size=(9, 4), mode="nearest"))
add("bilinear", [ux], F.interpolate(ux, size=(8, 11), mode="bilinear", align_corners=False))
add("bilinear_ac", [ux], F.interpolate(ux, size=(3, 5), mode="bilinear", align_corners=True))

# Softmax and normalisation.
sx = rn(3, 17, 5)
add("softmax_1", [sx], F.softmax(sx, dim=1))
add("log_softmax_last", [sx], F.log_softmax(sx, dim=-1))
lx, lw, lb = rn(4, 3, 5), rn(3, 5), rn(3, 5)
add("layer_norm", [lx, lw, lb], F.layer_norm(lx, (3, 5), lw, lb, eps=1e-5))
gx, gw, gb = rn(2, 6, 5, 3), rn(6), rn(6)
add("group_norm", [gx, gw, gb], F.group_norm(gx, 3, gw, gb, eps=1e-5))

# Padding and indexing.
dx = rn(2, 3, 4, 5)
add("pad_reflect", [dx], F.pad(dx, (2, 1, 1, 2), mode="reflect"))
add("pad_replicate", [dx], F.pad(dx, (2, 1, 1, 2), mode="replicate"))
add("pad_constant", [dx], F.pad(dx, (2, 1, 1, 2), mode="constant", value=0.5))
ix = rn(4, 6)
gidx = torch.randint(0, 6, (4, 3))
add("gather_1", [ix, gidx], torch.gather(ix, 1, gidx))
sidx = torch.tensor([3, 0, 3, 1])
add("index_select_0", [ix, sidx], torch.index_select(ix, 0, sidx))



out = sys.argv[1] if len(sys.argv) > 1 else "ops_forward.safetensors"
write_safetensors(out, cases, {"generator": "gen_ops_forward.py", "torch": torch.__version__, "seed": "1234"})
print(f"wrote {len(cases)} tensors to {out}")
