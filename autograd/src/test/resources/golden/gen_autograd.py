#!/usr/bin/env python3
"""Generates autograd.safetensors: PyTorch 1.13 forward outputs and input/parameter gradients for ops and for three
small composite blocks (a diffusers-style ResBlock, a spatial self-attention block, a two-layer pre-LN transformer),
plus three AdamW and SGD steps. Run with Debian's python3-torch:  /usr/bin/python3 gen_autograd.py

Layout per case <c>: inputs <c>.in<i>, upstream gradient <c>.up, output <c>.out, input gradients <c>.grad<i>;
blocks store parameters as <c>.param.<state-dict key> and their gradients as <c>.pgrad.<key>.
The Java test AutogradGoldenTest replays each case; keep both in step. safetensors is written with numpy.
"""
import pathlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5] / "tools" / "fixtures"))
from safetensors_np import write_safetensors  # noqa: E402

torch.manual_seed(4321)
out = {}


def rn(*s):
    return torch.randn(*s, dtype=torch.float32)


def op_case(name, fn, *inputs):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = fn(*xs)
    up = rn(*y.shape)
    y.backward(up)
    for i, x in enumerate(inputs):
        out[f"{name}.in{i}"] = x
        out[f"{name}.grad{i}"] = xs[i].grad
    out[f"{name}.up"] = up
    out[f"{name}.out"] = y.detach()


op_case("silu_mul_broadcast", lambda a, b: F.silu(a) * b, rn(2, 3, 5), rn(3, 1))
op_case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), rn(2, 4, 9, 8), rn(6, 2, 3, 3), rn(6))
op_case("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1), rn(2, 3, 4, 5), rn(3, 2, 3, 3))
op_case("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b, 1e-5), rn(2, 4, 5, 3), rn(4), rn(4))
op_case("layer_norm", lambda x, w, b: F.layer_norm(x, (6,), w, b, 1e-5), rn(3, 4, 6), rn(6), rn(6))
op_case("softmax_matmul", lambda q, k: torch.softmax(q @ k.transpose(-1, -2) / 2, dim=-1), rn(2, 5, 4), rn(2, 7, 4))
op_case("avg_max_pool", lambda x: F.avg_pool2d(x, 2) + F.max_pool2d(x, 2), rn(2, 3, 6, 6))
op_case("upsample", lambda x: F.interpolate(x, scale_factor=2, mode="nearest") * 0.5 + F.interpolate(x, size=(8, 6), mode="bilinear", align_corners=False), rn(1, 2, 4, 3))
op_case("gelu_logsumexp", lambda x: torch.logsumexp(F.gelu(x), dim=1), rn(4, 9))
op_case("var_mean", lambda x: x.var(dim=0) + x.mean(dim=1, keepdim=True), rn(5, 5))


class ResBlock(nn.Module):
    """diffusers ResnetBlock2D (default options: GroupNorm 32 -> 4 groups here, SiLU, additive time embedding)."""

    def __init__(self, cin, cout, temb, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, t):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(t))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class AttnBlock(nn.Module):
    """Spatial self-attention with diffusers' Attention names: group_norm, to_q, to_k, to_v, to_out.0."""

    def __init__(self, c, heads, groups):
        super().__init__()
        self.heads = heads
        self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.to_q, self.to_k, self.to_v = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        b, c, h, w = x.shape
        s = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        d = c // self.heads
        q, k, v = [t.reshape(b, h * w, self.heads, d).transpose(1, 2) for t in (self.to_q(s), self.to_k(s), self.to_v(s))]
        a = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5, dim=-1) @ v
        a = self.to_out[0](a.transpose(1, 2).reshape(b, h * w, c))
        return x + a.transpose(1, 2).reshape(b, c, h, w)


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.to_q, self.to_k, self.to_v = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(d, d)])
        self.ln_2 = nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, l, d = x.shape
        h = self.ln_1(x)
        hd = d // self.heads
        q, k, v = [t.reshape(b, l, self.heads, hd).transpose(1, 2) for t in (self.to_q(h), self.to_k(h), self.to_v(h))]
        mask = torch.ones(l, l, dtype=torch.bool).tril()
        s = (q @ k.transpose(-1, -2) / hd ** 0.5).masked_fill(~mask, float("-inf"))
        a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, l, d)
        x = x + self.to_out[0](a)
        return x + self.fc2(F.gelu(self.fc1(self.ln_2(x))))


class Transformer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.layers = nn.ModuleList([Block(d, heads), Block(d, heads)])
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.final_layer_norm(x)


def block_case(name, module, *inputs):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = module(*xs)
    up = rn(*y.shape)
    y.backward(up)
    for i, x in enumerate(inputs):
        out[f"{name}.in{i}"] = x
        out[f"{name}.grad{i}"] = xs[i].grad
    out[f"{name}.up"] = up
    out[f"{name}.out"] = y.detach()
    for k, p in module.named_parameters():
        out[f"{name}.param.{k}"] = p.detach().clone()
        out[f"{name}.pgrad.{k}"] = p.grad


block_case("resblock", ResBlock(8, 12, 16, 4), rn(2, 8, 6, 5), rn(2, 16))
block_case("attnblock", AttnBlock(8, 2, 4), rn(2, 8, 4, 3))
block_case("transformer", Transformer(16, 2), rn(2, 6, 16))

# Optimisers: three steps on a fixed quadratic loss sum((W x - y)^2) with a fixed batch.
for opt_name in ["adamw", "sgd"]:
    torch.manual_seed(99)
    lin = nn.Linear(5, 3)
    x, y = rn(8, 5), rn(8, 3)
    out[f"opt_{opt_name}.param.weight"] = lin.weight.detach().clone()
    out[f"opt_{opt_name}.param.bias"] = lin.bias.detach().clone()
    out[f"opt_{opt_name}.x"], out[f"opt_{opt_name}.y"] = x, y
    opt = (torch.optim.AdamW(lin.parameters(), lr=0.05, betas=(0.8, 0.95), eps=1e-8, weight_decay=0.1) if opt_name == "adamw"
           else torch.optim.SGD(lin.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01))
    for _ in range(3):
        opt.zero_grad()
        ((lin(x) - y) ** 2).sum().backward()
        opt.step()
    out[f"opt_{opt_name}.final.weight"] = lin.weight.detach().clone()
    out[f"opt_{opt_name}.final.bias"] = lin.bias.detach().clone()


path = sys.argv[1] if len(sys.argv) > 1 else "autograd.safetensors"
write_safetensors(path, out, {"generator": "gen_autograd.py", "torch": torch.__version__, "seed": "4321"})
print(f"wrote {len(out)} tensors to {path}")
