#!/usr/bin/env python3
"""Generates the UNet parity fixtures: small random-weight diffusers UNets, their forward outputs and gradients.

For each case <c> (config tiny_<c>.json next to this script) writes parity_<c>.safetensors with
    w.<state-dict key>   the random weights (F16, so the fixtures stay small; the reference runs on exactly these
                         values, upcast to F32)
    in.<name>            the inputs (sample, timesteps, class_labels, encoder_hidden_states, text_embeds, time_ids)
    out                  the full forward output (F32)
    loss.r               a fixed random tensor R; the loss is sum(out * R)
    grad.<key>           d loss / d parameter for a few parameters
    gin.<name>           d loss / d input for the differentiable inputs
    map.<path>           (sd case) the probabilities [B, heads, Lq, Lk] of one cross-attention
UNetParityTest (Java) loads the weights with loadStateDict(strict=true) and compares.

Reference environment as for gen_manifest.py (Debian python3-torch 1.13, diffusers 0.25.1, which uses the
plain AttnProcessor on torch 1.x), plus the safetensors package for the output files:
    PYTHONPATH=/tmp/diffusers-0.25.1/src:/tmp/hfhub-0.20.3/src /tmp/unetvenv/bin/python gen_parity.py
"""
import json
import pathlib

import torch
from safetensors.torch import save_file

import diffusers
from diffusers import UNet2DConditionModel, UNet2DModel

HERE = pathlib.Path(__file__).resolve().parent
torch.manual_seed(20240611)


def randomise(model):
    """PyTorch's default init for weights, plus random norm affines; everything rounded to F16 and back."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name.split(".")[-2] and p.dim() == 1:
                p.copy_((1 if name.endswith("weight") else 0) + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.add_(0.02 * torch.randn_like(p))
            p.copy_(p.half().float())
    return model


def run_case(case, model, inputs, call, grad_params, grad_inputs, maps=()):
    model = randomise(model).eval()
    kept = {}
    for path in maps:
        attn = model.get_submodule(path)
        original = attn.get_attention_scores

        def capture(q, k, mask=None, _orig=original, _path=path, _heads=attn.heads):
            probs = _orig(q, k, mask)
            kept[_path] = probs.reshape(-1, _heads, probs.shape[1], probs.shape[2])
            return probs

        attn.get_attention_scores = capture
    leaves = {k: (v.clone().requires_grad_(True) if k in grad_inputs else v) for k, v in inputs.items()}
    out = call(model, leaves)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    tensors = {f"w.{k}": v.detach().half() for k, v in model.state_dict().items()}
    tensors.update({f"in.{k}": v.detach() for k, v in inputs.items()})
    tensors["out"] = out.detach()
    tensors["loss.r"] = r
    params = dict(model.named_parameters())
    for k in grad_params:
        tensors[f"grad.{k}"] = params[k].grad
    for k in grad_inputs:
        tensors[f"gin.{k}"] = leaves[k].grad
    for k, v in kept.items():
        tensors[f"map.{k}"] = v.detach()
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    path = HERE / f"parity_{case}.safetensors"
    save_file(tensors, str(path), metadata={"diffusers": diffusers.__version__, "torch": torch.__version__})
    print(path.name, path.stat().st_size, "bytes,", sum(p.numel() for p in model.parameters()), "parameters")


def config(name):
    return json.loads((HERE / f"tiny_{name}.json").read_text())


def main():
    # UNet2DModel, class-conditional, one attention level; ADM-style scale_shift resnets, which also leave the
    # mid-block attention without a group norm.
    run_case("unet2d_class", UNet2DModel.from_config(config("unet2d_class")),
             {"sample": torch.randn(2, 3, 16, 16), "timesteps": torch.tensor([10, 981]), "class_labels": torch.tensor([3, 7])},
             lambda m, x: m(x["sample"], x["timesteps"], class_labels=x["class_labels"]).sample,
             ["conv_in.weight", "time_embedding.linear_1.weight", "class_embedding.weight", "down_blocks.1.attentions.0.to_q.weight",
              "mid_block.attentions.0.to_out.0.weight", "down_blocks.1.attentions.0.group_norm.weight", "up_blocks.0.resnets.1.conv_shortcut.weight", "conv_out.bias"],
             ["sample"])

    # UNet2DConditionModel, SD 1.x layout: conv projections, attention_head_dim = number of heads.
    run_case("unet_cond_sd", UNet2DConditionModel.from_config(config("unet_cond_sd")),
             {"sample": torch.randn(2, 4, 16, 16), "timesteps": torch.tensor([10, 981]), "encoder_hidden_states": torch.randn(2, 7, 24)},
             lambda m, x: m(x["sample"], x["timesteps"], encoder_hidden_states=x["encoder_hidden_states"]).sample,
             ["time_embedding.linear_2.weight", "down_blocks.0.attentions.0.proj_in.weight",
              "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
              "mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight", "up_blocks.1.attentions.1.proj_out.weight",
              "up_blocks.0.upsamplers.0.conv.weight"],
             ["sample", "encoder_hidden_states"],
             maps=["down_blocks.0.attentions.0.transformer_blocks.0.attn2"])

    # UNet2DConditionModel, SDXL layout: linear projections, per-block heads, per-layer transformer depths (with
    # reverse_transformer_layers_per_block), text_time added conditioning; a 9x12 input exercises the explicit
    # upsample sizes.
    run_case("unet_cond_sdxl", UNet2DConditionModel.from_config(config("unet_cond_sdxl")),
             {"sample": torch.randn(2, 4, 9, 12), "timesteps": torch.tensor([500.0]), "encoder_hidden_states": torch.randn(2, 5, 24),
              "text_embeds": torch.randn(2, 16), "time_ids": torch.tensor([[16.0, 16, 0, 0, 16, 16], [20, 24, 2, 4, 16, 16]])},
             lambda m, x: m(x["sample"], x["timesteps"], encoder_hidden_states=x["encoder_hidden_states"],
                            added_cond_kwargs={"text_embeds": x["text_embeds"], "time_ids": x["time_ids"]}).sample,
             ["add_embedding.linear_1.weight", "down_blocks.1.attentions.0.transformer_blocks.1.attn1.to_v.weight",
              "mid_block.attentions.0.transformer_blocks.1.norm2.bias", "up_blocks.0.attentions.1.proj_in.weight", "conv_norm_out.weight"],
             ["sample", "encoder_hidden_states", "text_embeds"])


if __name__ == "__main__":
    main()
