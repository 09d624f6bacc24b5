#!/usr/bin/env python3
"""Reference data for dev.distillery.models.text.ClipTextModel (ClipTextManifestTest, ClipTextParityTest).

Writes, next to this script:
  clip-vit-large-patch14-text.manifest.txt  state-dict names and shapes of transformers' CLIPTextModel built from
                                            clip-vit-large-patch14-text.config.json (SD 1.5's text_encoder/config.json,
                                            the text half of openai/clip-vit-large-patch14), one "name [d0, d1]" a line
  tiny-clip-text.{config.json,safetensors}  (weights stored as F16; outputs computed from those values) a random-weight CLIPTextModel (vocab 100, width 32, 2 layers, 2 heads,
                                            16 positions, quick_gelu, legacy eos_token_id 2 = argmax pooling)
  tiny-clip-text-io.safetensors             its inputs, outputs (all hidden states, last, pooled) and gradients
  tiny-clip-proj.{config.json,safetensors}  a random-weight CLIPTextModelWithProjection (gelu, eos_token_id 98 =
                                            first-EOS pooling, projection 24)
  tiny-clip-proj-io.safetensors             its inputs and outputs (hidden states, last, pooled, text_embeds)

Names. Checkpoints of CLIPTextModel (every SD / SDXL text_encoder, openai/clip-*) name their tensors
"text_model.embeddings...", the layout of transformers <= 4.x, where CLIPTextModel wrapped a CLIPTextTransformer as
`text_model`. transformers 5 removed that wrapper: its CLIPTextModel.state_dict() has no "text_model." prefix and
it strips the prefix when loading (conversion_mapping.py: "CLIPTextModel": PrefixChange(prefix_to_remove=
"text_model")). The manifest lists the checkpoint names, i.e. transformers 5's names with "text_model." put back;
the script checks that these are exactly the text_model.* entries of transformers' own CLIPTextModelWithProjection
(which still has a `text_model` child) and that transformers loads the prefixed tiny checkpoint with no missing
or unexpected key.

Environment used (no network, no weight download; the models are built from the configs):
  python 3.11, torch 2.13.0+cpu, transformers 5.18.0, safetensors 0.8.0, numpy 2.4.6
  python3 -m venv /tmp/textvenv
  /tmp/textvenv/bin/pip install torch==2.13.0+cpu transformers==5.18.0 safetensors numpy
  /tmp/textvenv/bin/python gen_clip_reference.py
(transformers 4.x, whose CLIPTextModel still has the text_model child, needs huggingface_hub < 1.0; no such pair
was installable here, hence 5.18 and the prefix handling above.)
Attention runs with attn_implementation="eager" (transformers' own matmul/softmax path), float32.
"""
import json
import os
import shutil
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "text_model."


def shape_str(t):
    return "[" + ", ".join(str(d) for d in t.shape) + "]"


def checkpoint_state(model):
    """CLIPTextModel state dict under checkpoint names (transformers 5 drops the text_model. prefix)."""
    return {PREFIX + k: v for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------------------ manifest
def write_manifest():
    cfg = CLIPTextConfig.from_json_file(os.path.join(HERE, "clip-vit-large-patch14-text.config.json"))
    torch.manual_seed(0)
    plain = CLIPTextModel(cfg)
    with_proj = CLIPTextModelWithProjection(cfg)
    names = checkpoint_state(plain)
    proj_names = {k: v for k, v in with_proj.state_dict().items() if k.startswith(PREFIX)}
    assert [(k, tuple(v.shape)) for k, v in names.items()] == [(k, tuple(v.shape)) for k, v in proj_names.items()], \
        "CLIPTextModel (+ text_model.) and CLIPTextModelWithProjection.text_model disagree"
    assert tuple(with_proj.state_dict()["text_projection.weight"].shape) == (cfg.projection_dim, cfg.hidden_size)
    count = sum(v.numel() for v in names.values())
    with open(os.path.join(HERE, "clip-vit-large-patch14-text.manifest.txt"), "w") as f:
        f.write(f"# transformers {transformers.__version__} CLIPTextModel(clip-vit-large-patch14-text.config.json): "
                f"{len(names)} tensors, {count} parameters; names as in checkpoints (text_model. prefix)\n")
        for k, v in names.items():
            f.write(f"{k} {shape_str(v)}\n")
    print("manifest:", len(names), "tensors,", count, "parameters")


# ------------------------------------------------------------------------------------------------ parity
def randomize(model, gen):
    """Weights large enough that attention and the MLP matter (transformers' init is std 0.02)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embedding" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)
            p.copy_(p.half().float())  # stored as F16 (half the fixture size); the outputs use the rounded values


def check_transformers_loads(model_cls, cfg, state, ids, expected):
    """transformers itself loads the checkpoint-named tensors strictly and reproduces the outputs."""
    d = tempfile.mkdtemp()
    try:
        cfg.save_pretrained(d)
        save_file(state, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        m, info = model_cls.from_pretrained(d, output_loading_info=True, attn_implementation="eager",
                                            dtype=torch.float32)
        assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
        with torch.no_grad():
            got = m(ids).last_hidden_state
        assert torch.equal(got, expected), "reloaded model differs"
    finally:
        shutil.rmtree(d)


def save_config(cfg, name):
    d = tempfile.mkdtemp()
    try:
        cfg.save_pretrained(d)
        shutil.copy(os.path.join(d, "config.json"), os.path.join(HERE, name))
    finally:
        shutil.rmtree(d)


def tiny_text():
    cfg = CLIPTextConfig(vocab_size=100, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=16, hidden_act="quick_gelu",
                         layer_norm_eps=1e-5, projection_dim=24, bos_token_id=0, eos_token_id=2, pad_token_id=1,
                         attn_implementation="eager")
    gen = torch.Generator().manual_seed(1234)
    model = CLIPTextModel(cfg).eval()
    randomize(model, gen)
    # Legacy pooling (eos_token_id == 2): the position of the largest id in each row (CLIP's EOS 49407 is the
    # largest id of its vocabulary; here 99). Row 0 is padded with the EOS id, so argmax returns its first occurrence.
    ids = torch.tensor([[98, 17, 42, 5, 99, 99, 99, 99],
                        [98, 3, 64, 11, 7, 23, 8, 99]], dtype=torch.int64)
    out = model(ids, output_hidden_states=True)
    hs = out.hidden_states
    assert len(hs) == cfg.num_hidden_layers + 1
    g_last = torch.randn(out.last_hidden_state.shape, generator=gen)
    g_pooled = torch.randn(out.pooler_output.shape, generator=gen)
    g_penult = torch.randn(hs[-2].shape, generator=gen)
    loss = (out.last_hidden_state * g_last).sum() + (out.pooler_output * g_pooled).sum() + (hs[-2] * g_penult).sum()
    loss.backward()
    state = {k: v.detach().half().contiguous() for k, v in checkpoint_state(model).items()}
    named = {PREFIX + k: p for k, p in model.named_parameters()}
    grads = ["text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight",
             "text_model.encoder.layers.0.self_attn.q_proj.weight", "text_model.encoder.layers.0.self_attn.k_proj.bias",
             "text_model.encoder.layers.1.mlp.fc1.bias", "text_model.encoder.layers.1.layer_norm1.weight",
             "text_model.final_layer_norm.weight"]
    io = {"input_ids": ids, "last_hidden_state": out.last_hidden_state, "pooler_output": out.pooler_output,
          "g_last": g_last, "g_pooled": g_pooled, "g_penult": g_penult, "loss": loss.reshape(1)}
    for i, h in enumerate(hs):
        io[f"hidden_states.{i}"] = h
    for k in grads:
        io["grad." + k] = named[k].grad
    io = {k: v.detach().contiguous() for k, v in io.items()}
    save_file(state, os.path.join(HERE, "tiny-clip-text.safetensors"), metadata={"format": "pt"})
    save_file(io, os.path.join(HERE, "tiny-clip-text-io.safetensors"))
    save_config(cfg, "tiny-clip-text.config.json")
    with torch.no_grad():
        check_transformers_loads(CLIPTextModel, cfg, state, ids, out.last_hidden_state)
    print("tiny-clip-text: pooled positions", ids.argmax(-1).tolist())


def tiny_proj():
    cfg = CLIPTextConfig(vocab_size=100, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=16, hidden_act="gelu",
                         layer_norm_eps=1e-5, projection_dim=24, bos_token_id=97, eos_token_id=98, pad_token_id=0,
                         attn_implementation="eager")
    gen = torch.Generator().manual_seed(5678)
    model = CLIPTextModelWithProjection(cfg).eval()
    randomize(model, gen)
    # eos_token_id != 2: the first position holding eos_token_id. Row 0 has a larger id (99) before its EOS, so
    # argmax pooling would pick position 1 instead of 3; row 1 is padded with the EOS id.
    ids = torch.tensor([[97, 99, 12, 98, 0, 0, 0, 0, 0, 0],
                        [97, 5, 6, 7, 98, 98, 98, 98, 98, 98]], dtype=torch.int64)
    with torch.no_grad():
        out = model(ids, output_hidden_states=True)
        base = model.text_model(ids)
    hs = out.hidden_states
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    io = {"input_ids": ids, "last_hidden_state": out.last_hidden_state, "pooler_output": base.pooler_output,
          "text_embeds": out.text_embeds}
    for i, h in enumerate(hs):
        io[f"hidden_states.{i}"] = h
    io = {k: v.detach().contiguous() for k, v in io.items()}
    save_file(state, os.path.join(HERE, "tiny-clip-proj.safetensors"), metadata={"format": "pt"})
    save_file(io, os.path.join(HERE, "tiny-clip-proj-io.safetensors"))
    save_config(cfg, "tiny-clip-proj.config.json")
    with torch.no_grad():
        check_transformers_loads(CLIPTextModelWithProjection, cfg, state, ids, out.last_hidden_state)
    print("tiny-clip-proj: first-EOS positions", (ids == 98).int().argmax(-1).tolist())


if __name__ == "__main__":
    print("torch", torch.__version__, "transformers", transformers.__version__)
    torch.set_num_threads(1)
    write_manifest()
    tiny_text()
    tiny_proj()
