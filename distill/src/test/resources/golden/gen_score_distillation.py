#!/usr/bin/env python3
"""Generates score_distillation.safetensors: PyTorch autograd gradients of the two generator losses of score
distillation (spec disback.md §2.4, invariant 3), for dev.distillery.distill.score.GeneratorLossGoldenTest.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_score_distillation.py [out.safetensors]

Forms, with x0 the generator output (requires grad) and d_fake, d_target the two denoisers' outputs (constants):
  DI   (Diff-Instruct):  loss = sum((d_fake - d_target) * x0) / B
  DMD2 (main/sd_guidance.py, compute_distribution_matching_loss):
        p_real = x0 - d_target; p_fake = x0 - d_fake
        g = (p_real - p_fake) / mean_{C,H,W} |p_real| (per sample); g = nan_to_num(g)
        loss = 0.5 * mse(x0, (x0 - g).detach())
Stored in float64 (the Java test runs the losses in F64 and F32).
"""
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5] / "tools" / "fixtures"))
from safetensors_np import write_safetensors  # noqa: E402


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("score_distillation.safetensors")
    g = torch.Generator().manual_seed(7)
    shape = (3, 2, 4, 5)
    x0 = torch.randn(shape, generator=g, dtype=torch.float64)
    d_fake = x0 + 0.3 * torch.randn(shape, generator=g, dtype=torch.float64)
    d_target = x0 + 0.5 * torch.randn(shape, generator=g, dtype=torch.float64) + 0.1

    x = x0.clone().requires_grad_(True)
    di = ((d_fake - d_target) * x).sum() / shape[0]
    di.backward()
    di_grad = x.grad.clone()

    x = x0.clone().requires_grad_(True)
    with torch.no_grad():
        p_real = x - d_target
        p_fake = x - d_fake
        grad = (p_real - p_fake) / torch.abs(p_real).mean(dim=[1, 2, 3], keepdim=True)
        grad = torch.nan_to_num(grad)
    dmd = 0.5 * torch.nn.functional.mse_loss(x, (x - grad).detach(), reduction="mean")
    dmd.backward()

    tensors = {
        "x0": x0, "d_fake": d_fake, "d_target": d_target,
        "di.loss": di.detach().reshape(1), "di.grad": di_grad,
        "dmd2.loss": dmd.detach().reshape(1), "dmd2.grad": x.grad.clone(), "dmd2.g": grad,
    }
    write_safetensors(out, {k: v.numpy() for k, v in tensors.items()}, {"generator": "gen_score_distillation.py", "torch": torch.__version__})
    print("wrote", out)


if __name__ == "__main__":
    main()
