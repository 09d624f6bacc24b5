"""Plain-PyTorch twins of the whole models bench/compare times (needs only Debian's python3-torch: no diffusers, no
transformers). Each mirrors the Java model and the library it follows, with the same state-dict names, so weights
exported by dev.distillery.bench.ExportCase load with load_state_dict(strict=True):

* UNet2DModel: diffusers' UNet2DModel restricted to what the unet-* cases use: positional time embedding
  (get_timestep_embedding with flip_sin_to_cos, freq_shift) -> time_embedding.linear_1 -> SiLU -> linear_2;
  conv_in; DownBlock2D / AttnDownBlock2D (resnets, attentions, downsamplers.0.conv: 3x3 stride 2 pad 1);
  UNetMidBlock2D (resnets.0, attentions.0, resnets.1); UpBlock2D / AttnUpBlock2D (skip concatenation on channels,
  upsamplers.0.conv after nearest x2); conv_norm_out -> SiLU -> conv_out. ResnetBlock2D with additive time
  embedding ("default"), 1x1 conv_shortcut when the width changes; the attention is diffusers' Attention as
  UNet2DModel builds it (group_norm, to_q, to_k, to_v, to_out.0, residual, heads of attention_head_dim).
  (Java: dev.distillery.models.unet.UNet2DModel.)
* CLIPTextModel: transformers' CLIP text tower under text_model.: token + position embeddings, pre-LN layers with
  causal self-attention (q_proj, k_proj, v_proj, out_proj), MLP fc1 -> hidden_act -> fc2, final_layer_norm; the
  forward returns the last hidden state. (Java: dev.distillery.models.text.ClipTextModel.)

Initialisation is PyTorch's default (it only matters for timing, and the consistency check loads our weights).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------- UNet2DModel

def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1.0, scale=1.0,
                           max_period=10000):
    """diffusers.models.embeddings.get_timestep_embedding."""
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(0, half_dim, dtype=torch.float32, device=timesteps.device)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, in_channels, time_embed_dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_channels, time_embed_dim)
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    """time_embedding_norm "default", SiLU, dropout 0, output_scale_factor 1."""

    def __init__(self, in_channels, out_channels, temb_channels, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps, affine=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1)
        self.conv_shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class SpatialAttention(nn.Module):
    """diffusers' Attention(query_dim=C, heads=C // head_dim, dim_head=head_dim, norm_num_groups, residual_connection,
    bias=True) with AttnProcessor, over [B, C, H, W]: x + to_out(attn(group_norm(x) as [B, HW, C]))."""

    def __init__(self, channels, head_dim, groups, eps):
        super().__init__()
        self.heads, self.head_dim = channels // head_dim, head_dim
        inner = self.heads * head_dim
        self.group_norm = nn.GroupNorm(groups, channels, eps=eps, affine=True)
        self.to_q = nn.Linear(channels, inner)
        self.to_k = nn.Linear(channels, inner)
        self.to_v = nn.Linear(channels, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, channels)])  # to_out.1 is a Dropout in diffusers: no weights

    def forward(self, x):
        b, c, h, w = x.shape
        s = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)

        def split(t):
            return t.reshape(b, h * w, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.to_q(s)), split(self.to_k(s)), split(self.to_v(s))
        p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (self.head_dim ** -0.5), dim=-1)
        o = torch.matmul(p, v).transpose(1, 2).reshape(b, h * w, self.heads * self.head_dim)
        o = self.to_out[0](o)
        return x + o.transpose(1, 2).reshape(b, c, h, w)


class Downsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """DownBlock2D (attn=False) or AttnDownBlock2D (attn=True)."""

    def __init__(self, in_channels, out_channels, temb, layers, groups, eps, head_dim, attn, add_downsample):
        super().__init__()
        if attn:
            self.attentions = nn.ModuleList([SpatialAttention(out_channels, head_dim, groups, eps) for _ in range(layers)])
        self.resnets = nn.ModuleList([ResnetBlock2D(in_channels if i == 0 else out_channels, out_channels, temb, groups, eps)
                                      for i in range(layers)])
        self.attn = attn
        if add_downsample:
            self.downsamplers = nn.ModuleList([Downsample2D(out_channels)])
        self.add_downsample = add_downsample

    def forward(self, x, temb):
        states = ()
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attn:
                x = self.attentions[i](x)
            states += (x,)
        if self.add_downsample:
            x = self.downsamplers[0](x)
            states += (x,)
        return x, states


class UpBlock(nn.Module):
    """UpBlock2D (attn=False) or AttnUpBlock2D (attn=True): layers resnets over [x, skip] concatenations."""

    def __init__(self, in_channels, prev_output_channel, out_channels, temb, layers, groups, eps, head_dim, attn,
                 add_upsample):
        super().__init__()
        resnets = []
        for i in range(layers):
            res_skip = in_channels if i == layers - 1 else out_channels
            res_in = prev_output_channel if i == 0 else out_channels
            resnets.append(ResnetBlock2D(res_in + res_skip, out_channels, temb, groups, eps))
        if attn:
            self.attentions = nn.ModuleList([SpatialAttention(out_channels, head_dim, groups, eps) for _ in range(layers)])
        self.resnets = nn.ModuleList(resnets)
        self.attn = attn
        if add_upsample:
            self.upsamplers = nn.ModuleList([Upsample2D(out_channels)])
        self.add_upsample = add_upsample

    def forward(self, x, res_samples, temb):
        for i, resnet in enumerate(self.resnets):
            x = torch.cat([x, res_samples[-1]], dim=1)
            res_samples = res_samples[:-1]
            x = resnet(x, temb)
            if self.attn:
                x = self.attentions[i](x)
        if self.add_upsample:
            x = self.upsamplers[0](x)
        return x


class UNetMidBlock2D(nn.Module):
    """One layer: resnets.0 -> attentions.0 -> resnets.1 (attn_groups = resnet_groups, as with "default" scale shift)."""

    def __init__(self, channels, temb, groups, eps, head_dim):
        super().__init__()
        self.attentions = nn.ModuleList([SpatialAttention(channels, head_dim, groups, eps)])
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, temb, groups, eps) for _ in range(2)])

    def forward(self, x, temb):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x)
        return self.resnets[1](x, temb)


class UNet2DModel(nn.Module):
    """diffusers' UNet2DModel for the block types DownBlock2D, AttnDownBlock2D, UpBlock2D, AttnUpBlock2D, with its
    defaults otherwise (positional time embedding, flip_sin_to_cos True, freq_shift 0, SiLU, conv up/downsampling,
    downsample_padding 1, mid block with attention, mid_block_scale_factor 1, dropout 0)."""

    def __init__(self, sample_size=32, in_channels=1, out_channels=1, block_out_channels=(64, 128, 128),
                 layers_per_block=2, attention_head_dim=8, norm_num_groups=32, norm_eps=1e-5,
                 down_block_types=("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
                 up_block_types=("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
                 flip_sin_to_cos=True, freq_shift=0, num_class_embeds=None):
        super().__init__()
        ch = list(block_out_channels)
        n = len(ch)
        assert len(down_block_types) == n and len(up_block_types) == n
        self.sample_size = sample_size
        self.flip_sin_to_cos, self.freq_shift = flip_sin_to_cos, freq_shift
        temb = ch[0] * 4
        groups, eps = norm_num_groups, norm_eps
        self.conv_in = nn.Conv2d(in_channels, ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        # diffusers: class_embed_type None with num_class_embeds -> an embedding table added to the time embedding
        self.class_embedding = nn.Embedding(num_class_embeds, temb) if num_class_embeds is not None else None

        self.down_blocks = nn.ModuleList()
        out = ch[0]
        for i, kind in enumerate(down_block_types):
            inp, out = out, ch[i]
            attn = {"DownBlock2D": False, "AttnDownBlock2D": True}[kind]
            self.down_blocks.append(DownBlock(inp, out, temb, layers_per_block, groups, eps, attention_head_dim, attn,
                                              add_downsample=i < n - 1))
        self.mid_block = UNetMidBlock2D(ch[-1], temb, groups, eps, attention_head_dim)

        self.up_blocks = nn.ModuleList()
        rev = list(reversed(ch))
        out = rev[0]
        for i, kind in enumerate(up_block_types):
            prev, out = out, rev[i]
            inp = rev[min(i + 1, n - 1)]
            attn = {"UpBlock2D": False, "AttnUpBlock2D": True}[kind]
            self.up_blocks.append(UpBlock(inp, prev, out, temb, layers_per_block + 1, groups, eps, attention_head_dim,
                                          attn, add_upsample=i < n - 1))
        self.conv_norm_out = nn.GroupNorm(groups, ch[0], eps=eps)
        self.conv_out = nn.Conv2d(ch[0], out_channels, 3, padding=1)

    def forward(self, sample, timesteps, class_labels=None):
        timesteps = timesteps * torch.ones(sample.shape[0], dtype=timesteps.dtype, device=timesteps.device)
        t_emb = get_timestep_embedding(timesteps, self.conv_in.out_channels, self.flip_sin_to_cos, self.freq_shift)
        emb = self.time_embedding(t_emb.to(sample.dtype))
        if self.class_embedding is not None:
            emb = emb + self.class_embedding(class_labels)
        x = self.conv_in(sample)
        skips = (x,)
        for block in self.down_blocks:
            x, states = block(x, emb)
            skips += states
        x = self.mid_block(x, emb)
        for block in self.up_blocks:
            k = len(block.resnets)
            res, skips = skips[-k:], skips[:-k]
            x = block(x, res, emb)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# ---------------------------------------------------------------------------------------------- CLIP text encoder

ACTIVATIONS = {
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_fast": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


class CLIPAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.scale = self.head_dim ** -0.5
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.q_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x, causal_mask):
        b, l, d = x.shape

        def split(t):
            return t.reshape(b, l, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale + causal_mask, dim=-1)
        return self.out_proj(torch.matmul(p, v).transpose(1, 2).reshape(b, l, d))


class CLIPMLP(nn.Module):
    def __init__(self, d, ff, act):
        super().__init__()
        self.act = ACTIVATIONS[act]
        self.fc1 = nn.Linear(d, ff)
        self.fc2 = nn.Linear(ff, d)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, d, heads, ff, act, eps):
        super().__init__()
        self.self_attn = CLIPAttention(d, heads)
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.mlp = CLIPMLP(d, ff, act)
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)

    def forward(self, x, causal_mask):
        x = x + self.self_attn(self.layer_norm1(x), causal_mask)
        return x + self.mlp(self.layer_norm2(x))


class CLIPEmbeddings(nn.Module):
    def __init__(self, vocab, d, positions):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Embedding(positions, d)

    def forward(self, ids):
        return self.token_embedding(ids) + self.position_embedding.weight[: ids.shape[1]]


class CLIPEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([
            CLIPEncoderLayer(c["hidden_size"], c["num_attention_heads"], c["intermediate_size"], c["hidden_act"],
                             c["layer_norm_eps"]) for _ in range(c["num_hidden_layers"])])


class CLIPTextTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = CLIPEmbeddings(c["vocab_size"], c["hidden_size"], c["max_position_embeddings"])
        self.encoder = CLIPEncoder(c)
        self.final_layer_norm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, ids):
        l = ids.shape[1]
        mask = torch.full((l, l), float("-inf")).triu(1)  # transformers adds finfo.min; same softmax
        x = self.embeddings(ids)
        for layer in self.encoder.layers:
            x = layer(x, mask)
        return self.final_layer_norm(x)


# transformers' CLIPTextConfig fields used here, and ClipTextConfig.small() (the from-scratch encoder).
CLIP_SMALL = {"vocab_size": 49408, "hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4,
              "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": "gelu", "layer_norm_eps": 1e-5}


class CLIPTextModel(nn.Module):
    """forward(ids [B, L] int64) -> last_hidden_state [B, L, D] (after final_layer_norm)."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        self.text_model = CLIPTextTransformer(self.config)

    def forward(self, ids):
        return self.text_model(ids)
