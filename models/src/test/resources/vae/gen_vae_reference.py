#!/usr/bin/env python3
"""Reference data for dev.distillery.models.vae.AutoencoderKL (VaeManifestTest, VaeParityTest).

Writes, next to this script:
  sd15-vae.manifest.txt            state-dict names and shapes of diffusers' AutoencoderKL built from
                                   sd15-vae.config.json (Stable Diffusion 1.5's vae/config.json), "name [d0, ...]" a line
  tiny-vae.{config.json,safetensors}
                                   (weights stored as F16; the outputs are computed from those values) a random-weight AutoencoderKL: block_out_channels [16, 32], 1 layer per block,
                                   8 groups, 4 latent channels, scaling_factor 0.13025, shift_factor 0.0609
  tiny-vae-io.safetensors          input x [2, 3, 16, 16]; quant_conv output (moments), posterior mean / logvar /
                                   std, decode(mean), a sample for a given noise, the KL term, and gradients of
                                   loss = sum(dec * g_dec) + sum(mean * g_mean) + sum(logvar * g_logvar)
                                   for a few parameters and for x

Environment used (no network, no weight download; the models are built from the configs):
  python 3.11, torch 2.13.0+cpu, safetensors 0.8.0, numpy 2.4.6, huggingface_hub 1.33.0,
  diffusers 0.40.0.dev0 = github.com/huggingface/diffusers commit 58eb52c0803ea9af3abec60841c2a093bdf1f951
  (2026-08-23), its src/ on PYTHONPATH:
  PYTHONPATH=/path/to/diffusers/src /tmp/textvenv/bin/python gen_vae_reference.py
The attention runs with diffusers' classic AttnProcessor (set_default_attn_processor), float32.
"""
import os
import shutil
import tempfile

import diffusers
import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DIFFUSERS_COMMIT = "58eb52c0803ea9af3abec60841c2a093bdf1f951"


def shape_str(t):
    return "[" + ", ".join(str(d) for d in t.shape) + "]"


def write_manifest():
    config = AutoencoderKL.load_config(os.path.join(HERE, "sd15-vae.config.json"))
    torch.manual_seed(0)
    vae = AutoencoderKL.from_config(config)
    sd = vae.state_dict()
    count = sum(v.numel() for v in sd.values())
    with open(os.path.join(HERE, "sd15-vae.manifest.txt"), "w") as f:
        f.write(f"# diffusers {diffusers.__version__} ({DIFFUSERS_COMMIT[:12]}) AutoencoderKL(sd15-vae.config.json): "
                f"{len(sd)} tensors, {count} parameters\n")
        for k, v in sd.items():
            f.write(f"{k} {shape_str(v)}\n")
    print("manifest:", len(sd), "tensors,", count, "parameters")


def tiny():
    vae = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(16, 32), layers_per_block=1,
                        act_fn="silu", latent_channels=4, norm_num_groups=8, sample_size=16,
                        scaling_factor=0.13025, shift_factor=0.0609).eval()
    vae.set_default_attn_processor()
    gen = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if "norm" in name and name.endswith("weight"):  # GroupNorms start at 1 / 0: make the affine matter
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif "norm" in name and name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            p.copy_(p.half().float())  # stored as F16 (half the fixture size); the outputs use the rounded values
    x = torch.randn(2, 3, 16, 16, generator=gen).requires_grad_(True)
    moments = vae.quant_conv(vae.encoder(x))
    posterior = vae.encode(x).latent_dist
    mean, logvar = posterior.mean, posterior.logvar
    noise = torch.randn(mean.shape, generator=gen)
    sample = mean + posterior.std * noise  # DiagonalGaussianDistribution.sample with this noise
    dec = vae.decode(mean).sample
    kl = posterior.kl()
    g_dec = torch.randn(dec.shape, generator=gen)
    g_mean = torch.randn(mean.shape, generator=gen)
    g_logvar = torch.randn(logvar.shape, generator=gen)
    loss = (dec * g_dec).sum() + (mean * g_mean).sum() + (logvar * g_logvar).sum()
    loss.backward()
    named = dict(vae.named_parameters())
    grads = ["encoder.conv_in.weight", "encoder.down_blocks.0.downsamplers.0.conv.weight",
             "encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.group_norm.weight",
             "quant_conv.bias", "post_quant_conv.weight", "decoder.up_blocks.0.upsamplers.0.conv.weight",
             "decoder.up_blocks.1.resnets.0.conv_shortcut.weight", "decoder.conv_out.bias"]
    io = {"x": x, "moments": moments, "mean": mean, "logvar": logvar, "std": posterior.std, "noise": noise,
          "sample": sample, "decoded": dec, "kl": kl, "g_dec": g_dec, "g_mean": g_mean, "g_logvar": g_logvar,
          "loss": loss.reshape(1), "grad.x": x.grad}
    for k in grads:
        io["grad." + k] = named[k].grad
    io = {k: v.detach().contiguous() for k, v in io.items()}
    state = {k: v.detach().half().contiguous() for k, v in vae.state_dict().items()}
    save_file(state, os.path.join(HERE, "tiny-vae.safetensors"), metadata={"format": "pt"})
    save_file(io, os.path.join(HERE, "tiny-vae-io.safetensors"))
    d = tempfile.mkdtemp()
    try:
        vae.save_config(d)
        shutil.copy(os.path.join(d, "config.json"), os.path.join(HERE, "tiny-vae.config.json"))
    finally:
        shutil.rmtree(d)
    print("tiny-vae:", len(state), "tensors; latent", tuple(mean.shape), "decoded", tuple(dec.shape))


if __name__ == "__main__":
    print("torch", torch.__version__, "diffusers", diffusers.__version__)
    torch.set_num_threads(1)
    write_manifest()
    tiny()
