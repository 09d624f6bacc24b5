#!/usr/bin/env python3
"""Writes the reference state-dict manifests (`name shape` lines) of diffusers' UNets for the committed configs:

    sd15_unet_config.json  -> sd15_unet_manifest.txt   (runwayml/stable-diffusion-v1-5, unet/config.json)
    sd21_unet_config.json  -> sd21_unet_manifest.txt   (stabilityai/stable-diffusion-2-1, unet/config.json)
    sdxl_unet_config.json  -> sdxl_unet_manifest.txt   (stabilityai/stable-diffusion-xl-base-1.0, unet/config.json)

The names and shapes come from diffusers itself (UNet2DConditionModel.from_config), never from the Java code, so
UNetManifestTest checks our module tree against the reference. The models are built on torch's 'meta' device (each
parameter is moved to 'meta' as it is registered, as accelerate's init_empty_weights does), so no weights are
materialised: SDXL's 2.6B parameters would be 10 GB in float32.

Reference environment (recorded in each manifest's header): Debian's python3-torch 1.13 and diffusers 0.25.1
(the last line that supports torch 1.x without the SDPA processor), with huggingface_hub 0.20.3:

    /usr/bin/python3 -m venv --system-site-packages /tmp/unetvenv
    /tmp/unetvenv/bin/pip install --no-deps regex filelock importlib_metadata safetensors packaging tqdm
    # diffusers v0.25.1 and huggingface_hub v0.20.3 (pure Python) from their release tags' src/ folders, e.g.
    #   git -C diffusers archive v0.25.1 src | tar -x -C /tmp/diffusers-0.25.1
    PYTHONPATH=/tmp/diffusers-0.25.1/src:/tmp/hfhub-0.20.3/src /tmp/unetvenv/bin/python gen_manifest.py
"""
import contextlib
import json
import pathlib

import torch
import torch.nn as nn

import diffusers
from diffusers import UNet2DConditionModel

HERE = pathlib.Path(__file__).resolve().parent
CASES = [
    ("sd15_unet_config.json", "sd15_unet_manifest.txt"),
    ("sd21_unet_config.json", "sd21_unet_manifest.txt"),
    ("sdxl_unet_config.json", "sdxl_unet_manifest.txt"),
]


@contextlib.contextmanager
def meta_parameters():
    """Moves every parameter to the 'meta' device as it is registered (what accelerate's init_empty_weights does)."""
    original = nn.Module.register_parameter

    def register(module, name, param):
        original(module, name, param)
        if param is not None:
            p = module._parameters[name]
            module._parameters[name] = type(p)(p.to(torch.device("meta")), requires_grad=p.requires_grad)

    nn.Module.register_parameter = register
    try:
        yield
    finally:
        nn.Module.register_parameter = original


def main():
    for config_name, manifest_name in CASES:
        config = json.loads((HERE / config_name).read_text())
        with meta_parameters():
            unet = UNet2DConditionModel.from_config(config)
        state = unet.state_dict()
        assert all(t.device.type == "meta" for t in state.values()), "a tensor was materialised"
        total = sum(t.numel() for t in state.values())
        lines = [
            f"# diffusers {diffusers.__version__}, torch {torch.__version__}: UNet2DConditionModel.from_config({config_name})",
            f"# {len(state)} tensors, {total} elements; one line per state-dict key in diffusers' order: name dim0,dim1,...",
        ]
        lines += [f"{k} {','.join(str(d) for d in t.shape)}" for k, t in state.items()]
        (HERE / manifest_name).write_text("\n".join(lines) + "\n")
        print(manifest_name, len(state), "tensors", total, "elements")


if __name__ == "__main__":
    main()
