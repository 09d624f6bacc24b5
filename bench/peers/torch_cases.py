#!/usr/bin/python3
"""The PyTorch side of bench/compare: times one case and prints the same lines as dev.distillery.bench.CompareRunner.

    /usr/bin/python3 bench/peers/torch_cases.py CASE [--reps N] [--threads T] [--warmup-ms MS] [--min-warmup N]
                                                     [--min-time-ms MS] [--max-reps N] [--seed S]
    /usr/bin/python3 bench/peers/torch_cases.py --list
    /usr/bin/python3 bench/peers/torch_cases.py [CASE] --check-against FILE.safetensors [--tolerance T]

Each case mirrors the Java case of the same name (bench/src/main/java/dev/distillery/bench/CompareCases.java and
Specs.java): same shapes, F32, the same op sequence. Kernel cases need no autograd: forward-only cases run under
torch.no_grad(), and backward passes are explicit calls, as on the Java side. Training-step cases (resblock-attn-step,
unet-step, textenc-step, teacher-train-fmnist, disback-iter-fmnist) use autograd and torch.optim.AdamW; the whole models are in torch_models.py.

--check-against FILE: no timing; FILE comes from dev.distillery.bench.ExportCase (a model case's weights, inputs and
results from the Java side at a tiny size); the PyTorch twin loads the weights and compares its results.

Output (stdout):
    # side=pytorch torch=1.13.1 blas=openblas-pthread:/usr/lib/.../libopenblasp-r0.3.21.so blas_info=generic mkldnn=True threads=2
    case=gemm-256 side=pytorch threads=2 warmup=40 reps=12 check=12.5 ms=0.41,0.40,...

To add a case: write a factory below that makes the inputs and returns a zero-argument callable doing the work once,
and register it in CASES under the same name as in CompareCases.java.
"""

import argparse
import json
import math
import os
import re
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402  (the plain-PyTorch UNet2DModel and CLIP text encoder, next to this file)


# ---------------------------------------------------------------------------------------------- case factories
# Each factory makes its inputs with a seeded generator and returns a zero-argument callable that runs the work
# once and returns the outputs (a tensor or a tuple of tensors).

# Where the case's tensors and models live (--device): inputs are drawn on the host from the seeded generator, as
# always, and moved there, so a case's inputs are the same on every device.
DEVICE = torch.device("cpu")
# The cases that follow DEVICE (those of bench/device-compare); the others always run on the host.
DEVICE_CASES = ("gemm-256", "gemm-512", "gemm-1024", "gemm-2048", "conv-fwd-64x32", "conv-fwdbwd-64x32", "conv-fwdbwd-128x16",
                "unet-step-tiny", "unet-train-tiny", "launch-overhead")


def _randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32).to(DEVICE)


def gemm(m, k, n, batch=1, transposed_b=False):
    def make(gen):
        a = _randn(gen, m, k) if batch == 1 else _randn(gen, batch, m, k)
        if transposed_b:
            b = (_randn(gen, n, k) if batch == 1 else _randn(gen, batch, n, k)).transpose(-2, -1)
        else:
            b = _randn(gen, k, n) if batch == 1 else _randn(gen, batch, k, n)
        return lambda: torch.matmul(a, b)
    return make


def conv(batch, channels, size, passes):
    """3x3 'same' conv, channels -> channels at size x size, with bias.

    passes='fwd': y = conv2d(x, w, b).
    passes='fwdbwd': y, then dx, dw, db for a given dy in one convolution_backward call (what autograd runs for a
    conv layer; the Java side makes the same three results with conv2d, conv2dBackwardInput, conv2dBackwardWeight
    and dy.sum(0, 2, 3)).
    """
    def make(gen):
        c = o = channels
        x = _randn(gen, batch, c, size, size)
        w = _randn(gen, o, c, 3, 3) * (1.0 / math.sqrt(c * 9))
        b = _randn(gen, o)
        gy = _randn(gen, batch, o, size, size)
        if passes == "fwd":
            return lambda: F.conv2d(x, w, b, stride=1, padding=1)

        def fwdbwd():
            y = F.conv2d(x, w, b, stride=1, padding=1)
            dx, dw, db = torch.ops.aten.convolution_backward(
                gy, x, w, [o], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [True, True, True])
            return y, dx, dw, db
        return fwdbwd
    return make


def groupnorm(n, c, h, w, groups):
    def make(gen):
        x = _randn(gen, n, c, h, w)
        weight = _randn(gen, c)
        bias = _randn(gen, c)
        return lambda: F.group_norm(x, groups, weight, bias, 1e-5)
    return make


def attention(batch, heads, seq, dim, backward):
    """softmax(q k^T / sqrt(dim)) v over [batch, heads, seq, dim]; with backward also dq, dk, dv for a given do,
    written out exactly as Specs.attentionBackward does (matmuls and the softmax backward formula)."""
    def make(gen):
        q = _randn(gen, batch, heads, seq, dim)
        k = _randn(gen, batch, heads, seq, dim)
        v = _randn(gen, batch, heads, seq, dim)
        g_out = _randn(gen, batch, heads, seq, dim)
        scale = 1.0 / math.sqrt(dim)

        def forward():
            scores = torch.matmul(q, k.transpose(-2, -1)) * scale
            p = torch.softmax(scores, -1)
            return torch.matmul(p, v), p

        if not backward:
            return lambda: forward()[0]

        def fwdbwd():
            out, p = forward()
            dv = torch.matmul(p.transpose(-2, -1), g_out)
            dp = torch.matmul(g_out, v.transpose(-2, -1))
            ds = p * (dp - (dp * p).sum(-1, keepdim=True)) * scale
            dq = torch.matmul(ds, k)
            dk = torch.matmul(ds.transpose(-2, -1), q)
            return out, dq, dk, dv
        return fwdbwd
    return make


def launch_chain(ops, n):
    def make(gen):
        x = _randn(gen, n)

        def chain():
            y = x
            for i in range(ops):
                y = y * 0.999 if i % 2 == 0 else y + 0.001
            return y
        return chain
    return make


def silu(n):
    def make(gen):
        x = _randn(gen, n)
        return lambda: F.silu(x)
    return make


def resblock_attn_step(n, channels, size, temb, heads, groups):
    """Mirrors TrainStepSpecs.ResBlockAttnStep: diffusers-style ResnetBlock2D + spatial attention, MSE, AdamW."""
    import torch.nn as nn

    class ResAttn(nn.Module):
        def __init__(self):
            super().__init__()
            c = channels
            self.norm1, self.norm2 = nn.GroupNorm(groups, c, eps=1e-6), nn.GroupNorm(groups, c, eps=1e-6)
            self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
            self.time_emb_proj = nn.Linear(temb, c)
            self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
            self.to_q, self.to_k, self.to_v, self.to_out = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)

        def forward(self, x, t):
            h = self.conv1(F.silu(self.norm1(x))) + self.time_emb_proj(F.silu(t))[:, :, None, None]
            x = x + self.conv2(F.silu(self.norm2(h)))
            b, c, hh, ww = x.shape
            s = self.group_norm(x).reshape(b, c, hh * ww).transpose(1, 2)
            d = c // heads
            q, k, v = [p(s).reshape(b, hh * ww, heads, d).transpose(1, 2) for p in (self.to_q, self.to_k, self.to_v)]
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1) @ v
            a = self.to_out(a.transpose(1, 2).reshape(b, hh * ww, c))
            return x + a.transpose(1, 2).reshape(b, c, hh, ww)

    def make(gen):
        torch.manual_seed(int(torch.randint(0, 2 ** 31, (1,), generator=gen)))
        model = ResAttn()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
        x, t, target = _randn(gen, n, channels, size, size), _randn(gen, n, temb), _randn(gen, n, channels, size, size)

        def step():
            with torch.enable_grad():
                opt.zero_grad(set_to_none=True)
                loss = F.mse_loss(model(x, t), target)
                loss.backward()
                opt.step()
            return loss.detach()
        return step
    return make


# Whole models (bench/peers/torch_models.py), mirroring ModelSpecs.java. AdamW as ModelSpecs.adamW.
ADAMW = dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
NUM_TRAIN_TIMESTEPS = 1000

# The small pixel UNet of ModelSpecs.UNetCase.small: diffusers' default attention_head_dim 8 (16 heads at 128).
UNET_SMALL = dict(sample_size=32, in_channels=1, out_channels=1, block_out_channels=(64, 128, 128), layers_per_block=2,
                  attention_head_dim=8, norm_num_groups=32, norm_eps=1e-5,
                  down_block_types=("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
                  up_block_types=("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"))

# ModelSpecs.UNetCase.tiny: the unet-step-tiny case, sized for device benchmarks on an OpenCL CPU device.
UNET_TINY = dict(sample_size=16, in_channels=1, out_channels=1, block_out_channels=(32, 64, 64), layers_per_block=1,
                 attention_head_dim=8, norm_num_groups=8, norm_eps=1e-5,
                 down_block_types=("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
                 up_block_types=("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"))


CLIP_NORM, EMA_DECAY = 1.0, 0.999  # ModelSpecs.CLIP_NORM, EMA_DECAY


def model_work(model, inputs, step, train_loop=False):
    """The timed work over a model and its inputs, exactly as ModelSpecs' workloads: the forward (the caller runs it
    under no_grad), or one step: zero_grad, forward, MSE to inputs["target"], backward, AdamW; with train_loop
    (ModelSpecs.UNetTrainCase) also clip_grad_norm_ before AdamW and an EMA of the weights after. Returns the output
    or the loss."""
    if isinstance(model, torch_models.UNet2DModel):
        def forward():
            return model(inputs["sample"], inputs["timesteps"])
    else:
        def forward():
            return model(inputs["ids"])
    if not step:
        return forward
    opt = torch.optim.AdamW(model.parameters(), **ADAMW)
    target = inputs["target"]
    params = list(model.parameters())
    shadow = [p.detach().clone() for p in params]

    def train_step():
        with torch.enable_grad():
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(forward(), target)
            loss.backward()
            if train_loop:
                torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
            opt.step()
        if train_loop:
            with torch.no_grad():
                for s, p in zip(shadow, params):
                    s.mul_(EMA_DECAY).add_(p, alpha=1 - EMA_DECAY)
        return loss.detach()
    return train_step


def unet(batch, step, arch=UNET_SMALL, train_loop=False):
    """Mirrors ModelSpecs.UNetCase: x [B, C, S, S] ~ N(0, 1) (the noisy sample), integer timesteps [B] on [0, 1000),
    target noise ~ N(0, 1) of x's shape; forward under no_grad, or the training step."""
    def make(gen):
        torch.manual_seed(int(torch.randint(0, 2 ** 31, (1,), generator=gen)))
        model = torch_models.UNet2DModel(**arch).to(DEVICE)
        c, s = arch["in_channels"], arch["sample_size"]
        inputs = {"sample": _randn(gen, batch, c, s, s),
                  "timesteps": torch.randint(0, NUM_TRAIN_TIMESTEPS, (batch,), generator=gen).to(DEVICE),
                  "target": _randn(gen, batch, c, s, s)}
        return model_work(model, inputs, step, train_loop)
    return make


def textenc(batch, step, config=torch_models.CLIP_SMALL):
    """Mirrors ModelSpecs.TextEncCase: fixed ids [B, 77] uniform over the vocabulary; the last hidden state under
    no_grad, or the training step towards a fixed target [B, 77, D] ~ N(0, 1)."""
    def make(gen):
        torch.manual_seed(int(torch.randint(0, 2 ** 31, (1,), generator=gen)))
        model = torch_models.CLIPTextModel(config)
        l, d = config["max_position_embeddings"], config["hidden_size"]
        inputs = {"ids": torch.randint(0, config["vocab_size"], (batch, l), generator=gen),
                  "target": _randn(gen, batch, l, d)}
        return model_work(model, inputs, step)
    return make


# The default Fashion-MNIST teacher of `train-teacher --dataset fmnist` (ImageTeacherConfig.defaultUNetConfig,
# mirrored by EdmTeacherStepSpec): ResNet blocks at 32x32 and 16x16, attention (heads of 32) at 8x8 and in the mid
# block, GroupNorm 8, 10 classes + the null label.
UNET_FMNIST_TEACHER = dict(sample_size=32, in_channels=1, out_channels=1, block_out_channels=(32, 48, 64), layers_per_block=1,
                           attention_head_dim=32, norm_num_groups=8, norm_eps=1e-5,
                           down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
                           up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"), num_class_embeds=11)
FMNIST_TEACHER_PARAMETERS = 949185  # EdmTeacherStepSpec.PARAMETERS


SIGMA_DATA, P_MEAN, P_STD, C_NOISE_SCALE = 0.5, -1.2, 1.2, 1000.0  # EdmTeacherStepSpec, EdmUNetNet.DEFAULT_C_NOISE_SCALE


def fmnist_teacher(gen, arch=UNET_FMNIST_TEACHER):
    """Mirrors EdmTeacherStepSpec.teacherNet: the default fmnist UNet with random weights (seeded from gen); checks the
    parameter count the Java side checks."""
    torch.manual_seed(int(torch.randint(0, 2 ** 31, (1,), generator=gen)))
    model = torch_models.UNet2DModel(**arch)
    params = sum(p.numel() for p in model.parameters())
    assert params == FMNIST_TEACHER_PARAMETERS, "the fmnist UNet has %d parameters, the Java cases have %d" % (params, FMNIST_TEACHER_PARAMETERS)
    return model


def lognormal_sigmas(gen, batch, p_mean=P_MEAN, p_std=P_STD):
    """One noise level per sample, ln sigma ~ N(p_mean, p_std^2) (NoiseLevels.LogNormal)."""
    return torch.exp(p_mean + p_std * torch.randn(batch, generator=gen))


def edm_denoise(model, x, sigma, labels, sigma_data=SIGMA_DATA, c_noise_scale=C_NOISE_SCALE):
    """Mirrors EdmUNetNet.denoise: D(x; sigma) = c_skip x + c_out F(c_in x, c_noise_scale ln(sigma)/4, y), sigma [B]."""
    s = sigma[:, None, None, None]
    s2 = s ** 2 + sigma_data ** 2
    c_skip, c_out, c_in = sigma_data ** 2 / s2, s * sigma_data / s2.sqrt(), 1 / s2.sqrt()
    return c_skip * x + c_out * model(c_in * x, c_noise_scale * torch.log(sigma) / 4, labels)


def edm_dsm_loss(model, x0, labels, sigma, noise, sigma_data=SIGMA_DATA):
    """Mirrors DenoisingScoreMatching.loss: mean(lambda(sigma) (D(x0 + sigma n; sigma) - x0)^2) with
    lambda = (sigma^2 + sigma_d^2) / (sigma sigma_d)^2; x0 is a constant."""
    s = sigma[:, None, None, None]
    weight = (s ** 2 + sigma_data ** 2) / (s * sigma_data) ** 2
    d = edm_denoise(model, x0 + s * noise, sigma, labels, sigma_data)
    return (weight * (d - x0) ** 2).mean()


def teacher_train_step(batch, arch=UNET_FMNIST_TEACHER, lr=1e-3):
    """Mirrors EdmTeacherStepSpec: fixed x0 [B,1,32,32] uniform in [-1, 1] and labels i mod 11; per step
    ln sigma ~ N(P_MEAN, P_STD^2), n ~ N(0, I), the EDM DSM loss (edm_dsm_loss), backward, AdamW (no weight decay)."""
    def make(gen):
        model = fmnist_teacher(gen, arch)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        x0 = torch.rand(batch, 1, 32, 32, generator=gen) * 2 - 1
        labels = torch.arange(batch) % arch["num_class_embeds"]

        def step():
            with torch.enable_grad():
                opt.zero_grad(set_to_none=True)
                sigma = lognormal_sigmas(gen, batch)
                loss = edm_dsm_loss(model, x0, labels, sigma, torch.randn(x0.shape, generator=gen))
                loss.backward()
                opt.step()
            return loss.detach()
        return step
    return make


def disback_iteration(batch, lr=1e-5, sigma_init=1.0, ema_decay=0.0, classes=10):
    """Mirrors DisBackIterSpec: one Diff-Instruct iteration of ScoreDistiller (DistillConfig.diffInstruct) with the
    fmnist teacher (random weights) as the target, the generator and the fake score starting as its copies.
    Fake step: x0 = G(z) without graph (fresh z, labels uniform over the classes), the DSM loss of the fake score,
    backward, gradient norm, Adam. Generator step: x0 = G(z) = D_gen(sigma_init z; sigma_init) with graph (fresh z and
    labels), x_t = sg(x0) + sigma eps, D_fake(x_t) and D_teacher(x_t) under no_grad, the DI loss
    sum(sg(D_fake - D_teacher) x0) / B, backward into G, gradient norm, Adam, EMA update. Adam betas (0, 0.999),
    eps 1e-8, no weight decay, for both. Returns both losses and both gradient norms."""
    import copy

    def make(gen):
        teacher = fmnist_teacher(gen)
        generator, fake = copy.deepcopy(teacher), copy.deepcopy(teacher)
        adam = dict(lr=lr, betas=(0.0, 0.999), eps=1e-8, weight_decay=0.0)
        gen_opt = torch.optim.Adam(generator.parameters(), **adam)
        fake_opt = torch.optim.Adam(fake.parameters(), **adam)
        ema = [p.detach().clone() for p in generator.parameters()]
        shape = (batch, 1, 32, 32)
        sigma_g = torch.full((batch,), sigma_init)

        def labels():
            return torch.randint(0, classes, (batch,), generator=gen)

        def one_step(y):  # G(z) on fresh z
            return edm_denoise(generator, sigma_init * torch.randn(shape, generator=gen), sigma_g, y)

        def grad_norm(model):
            return torch.stack([p.grad.square().sum() for p in model.parameters()]).sum().sqrt()

        def iteration():
            with torch.enable_grad():
                y = labels()
                with torch.no_grad():
                    x0 = one_step(y)
                fake_opt.zero_grad(set_to_none=True)
                fake_loss = edm_dsm_loss(fake, x0, y, lognormal_sigmas(gen, batch), torch.randn(shape, generator=gen))
                fake_loss.backward()
                fake_norm = grad_norm(fake)
                fake_opt.step()

                y = labels()
                gen_opt.zero_grad(set_to_none=True)
                x0 = one_step(y)
                sigma = lognormal_sigmas(gen, batch)
                xt = x0.detach() + sigma[:, None, None, None] * torch.randn(shape, generator=gen)
                with torch.no_grad():
                    d_fake = edm_denoise(fake, xt, sigma, y)
                    d_teacher = edm_denoise(teacher, xt, sigma, y)
                gen_loss = (x0 * (d_fake - d_teacher)).sum() / batch
                gen_loss.backward()
                gen_norm = grad_norm(generator)
                gen_opt.step()
                with torch.no_grad():
                    for s, p in zip(ema, generator.parameters()):
                        s.copy_(s * ema_decay + p * (1 - ema_decay))
            return torch.stack([gen_loss.detach(), fake_loss.detach(), gen_norm, fake_norm])
        return iteration
    return make


# ---------------------------------------------------------------------------------------------- the registry
# Same names, same order as CompareCases.java.

CASES = {
    "gemm-256": gemm(256, 256, 256),
    "gemm-512": gemm(512, 512, 512),
    "gemm-1024": gemm(1024, 1024, 1024),
    "gemm-2048": gemm(2048, 2048, 2048),
    "conv-fwd-64x32": conv(32, 64, 32, "fwd"),
    "conv-fwdbwd-64x32": conv(32, 64, 32, "fwdbwd"),
    "conv-fwdbwd-128x16": conv(32, 128, 16, "fwdbwd"),
    "groupnorm": groupnorm(32, 64, 32, 32, 32),
    "attention-fwdbwd": attention(8, 4, 256, 64, backward=True),
    "silu-16m": silu(1 << 24),
    "resblock-attn-step": resblock_attn_step(16, 64, 16, 256, 4, 32),
    "unet-fwd": unet(64, step=False),
    "unet-step": unet(64, step=True),
    "unet-step-tiny": unet(8, step=True, arch=UNET_TINY),
    "unet-train-tiny": unet(8, step=True, arch=UNET_TINY, train_loop=True),
    "textenc-fwd": textenc(64, step=False),
    "textenc-step": textenc(64, step=True),
    "teacher-train-fmnist": teacher_train_step(64),
    "disback-iter-fmnist": disback_iteration(64),
    "launch-overhead": launch_chain(256, 1024),
}


# ---------------------------------------------------------------------------------------------- consistency check
# --check-against FILE: FILE is written by dev.distillery.bench.ExportCase (our model's weights, inputs and results
# at a tiny size); the PyTorch twin loads the weights and must compute the same results.

_ST_DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "F16": "<f2", "BOOL": "|b1"}


def read_safetensors(path):
    """{name: torch tensor}, metadata: the safetensors format parsed with numpy (8-byte little-endian header length,
    JSON header, raw little-endian data; see tools/fixtures/safetensors_np.py)."""
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    base, out = 8 + n, {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        a = np.frombuffer(data[base + start:base + end], dtype=_ST_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out, meta


def check_against(path, case=None, tol=1e-4):
    """Builds the PyTorch twin of the exported case, loads our weights (strict: the state-dict names must match), runs
    the same work and prints max |ours - PyTorch| for each result, relative to the largest |ours|; returns 0 when
    every relative difference is at most tol."""
    tensors, meta = read_safetensors(path)
    name = meta.get("case")
    if case is not None and case != name:
        print("torch_cases.py: %s holds case %s, not %s" % (path, name, case), file=sys.stderr)
        return 2
    arch = json.loads(meta["arch"])
    if meta["kind"] == "unet":
        model = torch_models.UNet2DModel(**arch)
    else:
        model = torch_models.CLIPTextModel({k: arch[k] for k in torch_models.CLIP_SMALL})
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(state, strict=True)
    params = sum(p.numel() for p in model.parameters())
    inputs = {k[len("input."):]: v for k, v in tensors.items() if k.startswith("input.")}
    step = meta["step"] == "true"
    print("# check case=%s kind=%s step=%s batch=%s params=%d (java %s) arch=%s" % (
        name, meta["kind"], step, meta["batch"], params, meta["params"], json.dumps(arch, separators=(",", ":"))))
    if str(params) != meta["params"]:
        print("torch_cases.py: parameter counts differ", file=sys.stderr)
        return 1
    work = model_work(model, inputs, step)
    results = []  # (what, ours, theirs)
    if not step:
        with torch.no_grad():
            results.append(("output", tensors["expected.output"], work()))
    else:
        results.append(("loss", tensors["expected.loss"], work()))
        for pname, p in model.named_parameters():
            results.append(("grad." + pname, tensors["grad." + pname], p.grad))
        results.append(("loss2 (after one AdamW step)", tensors["expected.loss2"], work()))
    # Key-projection biases (to_k.bias, k_proj.bias) get a gradient that is zero in exact arithmetic (softmax ignores a
    # shift common to every key of a row): both sides hold rounding noise there, so those are checked to be zero up
    # to rounding (below 1e-6 of the model's largest gradient) instead of against each other.
    grads = [r for r in results if r[0].startswith("grad.")]
    gscale = max([float(o.abs().max()) for _, o, _ in grads] or [0.0])
    worst, worst_what, zeros = 0.0, None, []
    for what, ours, theirs in results:
        ours, theirs = ours.double(), theirs.detach().double().reshape(ours.shape)
        diff = float((ours - theirs).abs().max())
        if what.startswith("grad.") and re.search(r"(to_k|k_proj)\.bias$", what):
            biggest = max(float(ours.abs().max()), float(theirs.abs().max()))
            zeros.append(biggest)
            rel = biggest / (1e-6 * gscale) * tol  # <= tol exactly when biggest <= 1e-6 * gscale
        else:
            scale = max(float(ours.abs().max()), 1e-30)
            rel = diff / scale
            if not what.startswith("grad.") or rel > tol:
                print("%s max_abs_diff=%.3g max_abs=%.3g rel=%.3g" % (what, diff, scale, rel))
        if rel > worst or worst_what is None:
            worst, worst_what = rel, what
    if grads:
        gdiff = max(float((o.double() - t.detach().double().reshape(o.shape)).abs().max()) for _, o, t in grads)
        print("gradients: %d tensors, max_abs_diff=%.3g (largest |grad| %.3g); %d key biases zero up to rounding "
              "(largest %.3g)" % (len(grads), gdiff, gscale, len(zeros), max(zeros or [0.0])))
    ok = worst <= tol
    print("check %s: worst rel diff %.3g (%s), tolerance %.0e" % ("PASSED" if ok else "FAILED", worst, worst_what, tol))
    return 0 if ok else 1


# ---------------------------------------------------------------------------------------------- environment

def blas_in_use():
    """The BLAS library actually mapped into this process (after a matmul has loaded it), e.g.
    'openblas-pthread:/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so'."""
    a = torch.ones(64, 64)
    torch.matmul(a, a)
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[5].startswith("/"):
                    path = parts[5]
                    name = os.path.basename(path)
                    if any(t in name for t in ("blas", "mkl_", "blis")) and path not in libs:
                        libs.append(path)
    except OSError:
        return "unknown"
    for path in libs:
        name = os.path.basename(path)
        if name.startswith("libopenblas"):
            flavour = os.path.basename(os.path.dirname(path))
            return ("openblas-" + flavour.split("-", 1)[1] if flavour.startswith("openblas-") else "openblas") + ":" + path
        if name.startswith("libmkl"):
            return "mkl:" + path
        if name.startswith("libblis"):
            return "blis:" + path
    for path in libs:
        if os.path.basename(path).startswith("libblas"):
            # Debian's netlib reference BLAS lives in .../blas/libblas.so.3; alternatives put others elsewhere.
            return ("reference-netlib:" if "/blas/" in path else "libblas:") + os.path.realpath(path)
    return "none-mapped"


def config_value(key):
    """A KEY=value entry of torch.__config__.show() (e.g. BLAS_INFO), or '?'."""
    m = re.search(r"\b%s=([^,\s]+)" % re.escape(key), torch.__config__.show())
    return m.group(1) if m else "?"


# ---------------------------------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", nargs="?")
    ap.add_argument("--list", action="store_true", help="print the case names and exit")
    ap.add_argument("--reps", type=int, default=5, help="timed runs (at least)")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: leave PyTorch's default)")
    ap.add_argument("--warmup-ms", type=int, default=1000, help="warm up for at least this long")
    ap.add_argument("--min-warmup", type=int, default=2, help="warm-up runs (at least)")
    ap.add_argument("--min-time-ms", type=int, default=0, help="keep timing until this much timed work")
    ap.add_argument("--max-reps", type=int, default=1000, help="cap on timed runs when --min-time-ms asks for more")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--device", default="cpu",
                    help="cpu (default) or cuda[:K]: run the case there, synchronising before each time is read "
                         "(only the cases of bench/device-compare: %s)" % " ".join(DEVICE_CASES))
    ap.add_argument("--check-against", metavar="FILE",
                    help="instead of timing: load a file written by dev.distillery.bench.ExportCase and check that the "
                         "PyTorch twin computes the same results (CASE optional)")
    ap.add_argument("--tolerance", type=float, default=1e-4,
                    help="--check-against: largest allowed max|diff| / max|ours| per result (default 1e-4)")
    args = ap.parse_args(argv)
    if not args.list and args.case is None and args.check_against is None:
        ap.error("give a CASE or --list")
    if args.case is not None and args.case not in CASES:
        ap.error("unknown case '%s'; known cases: %s" % (args.case, " ".join(CASES)))
    if args.reps < 1:
        ap.error("--reps must be >= 1")
    if args.device != "cpu":
        if not args.device.startswith("cuda"):
            ap.error("--device must be cpu or cuda[:K], got '%s'" % args.device)
        if not torch.cuda.is_available():
            ap.error("--device %s: this PyTorch (%s) sees no CUDA device" % (args.device, torch.__version__))
        if args.case is not None and args.case not in DEVICE_CASES:
            ap.error("--device %s: case %s runs on the host only (device cases: %s)" % (args.device, args.case, " ".join(DEVICE_CASES)))
    return args


def main(argv):
    args = parse_args(argv)
    if args.list:
        for name in CASES:
            print(name)
        return 0
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.check_against is not None:
        return check_against(args.check_against, args.case, args.tolerance)
    print("# side=pytorch torch=%s blas=%s blas_info=%s mkldnn=%s threads=%d python=%s" % (
        torch.__version__, blas_in_use(), config_value("BLAS_INFO"), torch.backends.mkldnn.is_available(),
        torch.get_num_threads(), sys.version.split()[0]), flush=True)

    global DEVICE
    DEVICE = torch.device(args.device)
    cuda = DEVICE.type == "cuda"
    if cuda:
        print("# device=%s name=%s" % (DEVICE, torch.cuda.get_device_name(DEVICE)), flush=True)

    def sync():
        if cuda:
            torch.cuda.synchronize(DEVICE)

    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        work = CASES[args.case](gen)
        sync()
        out = None
        warm = 0
        t0 = time.perf_counter()
        while warm < args.min_warmup or (time.perf_counter() - t0) * 1e3 < args.warmup_ms:
            out = work()
            sync()
            warm += 1
        times = []
        timed = 0.0
        max_reps = max(args.max_reps, args.reps)
        while len(times) < args.reps or (timed * 1e3 < args.min_time_ms and len(times) < max_reps):
            s = time.perf_counter()
            out = work()
            sync()  # queued kernels are inside the time, as the Java side's read of one output element
            d = time.perf_counter() - s
            timed += d
            times.append(d * 1e3)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    check = 0.0
    for t in outs:
        if not bool(torch.isfinite(t).all()):
            print("torch_cases.py: case %s produced non-finite values" % args.case, file=sys.stderr)
            return 1
        check += float(t.double().sum())
    print("case=%s side=pytorch threads=%d warmup=%d reps=%d check=%.6g ms=%s" % (
        args.case, torch.get_num_threads(), warm, len(times), check, ",".join("%.5f" % t for t in times)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
