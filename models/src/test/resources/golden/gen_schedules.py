#!/usr/bin/env python3
"""Generates schedules.safetensors: diffusers noise schedules, DDIM timestep grids, Karras sigmas and a few
deterministic sampler trajectories, for dev.distillery.models.diffusion.SchedulesGoldenTest.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 gen_schedules.py [out.safetensors]

diffusers is not installed here, so its few lines are re-implemented below, each citing the diffusers source
(src/diffusers/schedulers/scheduling_ddim.py, scheduling_ddpm.py, scheduling_ddim_inverse.py, v0.21-0.30; the
formulas have been stable across those versions). diffusers computes betas and alphas_cumprod in float32:
  linear:            torch.linspace(beta_start, beta_end, T, dtype=torch.float32)
  scaled_linear:     torch.linspace(beta_start**0.5, beta_end**0.5, T, dtype=torch.float32) ** 2
  squaredcos_cap_v2: betas_for_alpha_bar(T) -- Python floats, min(1 - abar(t2)/abar(t1), 0.999), then float32
  sigmoid:           torch.sigmoid(torch.linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start
  alphas_cumprod = torch.cumprod(1 - betas, dim=0)
Each schedule is stored twice: "<name>.betas32"/"<name>.abar32" exactly as diffusers (float32) and
"<name>.betas"/"<name>.abar" from the same formulas in float64 (what the Java code computes).

Sampler cases (float64, toy models defined identically in the Java test):
  vp toy model   out(x, t) = 0.9 * tanh(0.8 x + 0.002 t - 0.5) + 0.05 x
  edm toy model  D(x; s)   = 0.8 x / (1 + s^2) + 0.3 tanh(x) * s / (1 + s)
safetensors is written by hand (Debian has no python3-safetensors): 8-byte little-endian header length,
JSON header, raw little-endian data.
"""
import pathlib
import math
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5] / "tools" / "fixtures"))
from safetensors_np import write_safetensors  # noqa: E402

T = 1000
out = {}


# ---------------------------------------------------------------------------------------------- schedules
def betas_for_alpha_bar(num_diffusion_timesteps, max_beta=0.999):
    """diffusers scheduling_ddpm.betas_for_alpha_bar, alpha_transform_type="cosine" (squaredcos_cap_v2)."""
    def alpha_bar_fn(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = []
    for i in range(num_diffusion_timesteps):
        t1 = i / num_diffusion_timesteps
        t2 = (i + 1) / num_diffusion_timesteps
        betas.append(min(1 - alpha_bar_fn(t2) / alpha_bar_fn(t1), max_beta))
    return betas


def rescale_zero_terminal_snr(betas):
    """diffusers scheduling_ddim.rescale_zero_terminal_snr (Lin et al. 2023, Algorithm 1)."""
    alphas = 1.0 - betas
    alphas_cumprod = torch.cumprod(alphas, dim=0)
    alphas_bar_sqrt = alphas_cumprod.sqrt()
    a0 = alphas_bar_sqrt[0].clone()
    aT = alphas_bar_sqrt[-1].clone()
    alphas_bar_sqrt -= aT
    alphas_bar_sqrt *= a0 / (a0 - aT)
    alphas_bar = alphas_bar_sqrt ** 2
    alphas = alphas_bar[1:] / alphas_bar[:-1]
    alphas = torch.cat([alphas_bar[0:1], alphas])
    return 1 - alphas


def make_betas(kind, start, end, dtype):
    """DDIMScheduler.__init__ / DDPMScheduler.__init__ beta construction."""
    if kind == "linear":
        return torch.linspace(start, end, T, dtype=dtype)
    if kind == "scaled_linear":
        return torch.linspace(start ** 0.5, end ** 0.5, T, dtype=dtype) ** 2
    if kind == "squaredcos_cap_v2":
        return torch.tensor(betas_for_alpha_bar(T), dtype=dtype)
    if kind == "sigmoid":
        b = torch.linspace(-6, 6, T, dtype=dtype)
        return torch.sigmoid(b) * (end - start) + start
    raise ValueError(kind)


SCHEDULES = {
    "linear": ("linear", 1e-4, 0.02),              # DDPM (Ho et al. 2020)
    "scaled_linear": ("scaled_linear", 0.00085, 0.012),  # Stable Diffusion 1.x/2.x/XL
    "squaredcos_cap_v2": ("squaredcos_cap_v2", 1e-4, 0.02),  # improved DDPM cosine; start/end unused
    "sigmoid": ("sigmoid", 1e-4, 0.02),
}
for name, (kind, start, end) in SCHEDULES.items():
    for dtype, suffix in ((torch.float64, ""), (torch.float32, "32")):
        betas = make_betas(kind, start, end, dtype)
        out[f"{name}.betas{suffix}"] = betas
        out[f"{name}.abar{suffix}"] = torch.cumprod(1.0 - betas, dim=0)
# zero-terminal-SNR rescale of the SD schedule (float64)
zs = rescale_zero_terminal_snr(make_betas("scaled_linear", 0.00085, 0.012, torch.float64))
out["scaled_linear_zsnr.betas"] = zs
out["scaled_linear_zsnr.abar"] = torch.cumprod(1.0 - zs, dim=0)


# ---------------------------------------------------------------------------------------------- timestep grids
def ddim_timesteps(spacing, n, steps_offset):
    """DDIMScheduler.set_timesteps (same code in DDPMScheduler.set_timesteps)."""
    if spacing == "linspace":
        ts = np.linspace(0, T - 1, n).round()[::-1].copy().astype(np.int64)
    elif spacing == "leading":
        step_ratio = T // n
        ts = (np.arange(0, n) * step_ratio).round()[::-1].copy().astype(np.int64)
        ts += steps_offset
    elif spacing == "trailing":
        step_ratio = T / n
        ts = np.round(np.arange(T, 0, -step_ratio)).astype(np.int64)
        ts -= 1
    else:
        raise ValueError(spacing)
    return ts


for spacing in ("leading", "trailing", "linspace"):
    for n in (50, 3, 7, 10, 80, 999):
        out[f"timesteps.{spacing}.{n}"] = torch.from_numpy(ddim_timesteps(spacing, n, 1))


# ---------------------------------------------------------------------------------------------- Karras sigmas
def karras_sigmas(n, sigma_min, sigma_max, rho):
    """Karras et al. 2022 eq. (5), as k-diffusion get_sigmas_karras: n descending sigmas and a trailing 0."""
    ramp = torch.linspace(0, 1, n, dtype=torch.float64)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros([1])])


out["karras.18"] = karras_sigmas(18, 0.002, 80.0, 7.0)
out["karras.40"] = karras_sigmas(40, 0.002, 80.0, 7.0)


# ---------------------------------------------------------------------------------------------- samplers
def vp_model(x, t):
    return 0.9 * torch.tanh(0.8 * x + 0.002 * t - 0.5) + 0.05 * x


def edm_model(x, s):
    return 0.8 * x / (1 + s * s) + 0.3 * torch.tanh(x) * s / (1 + s)


def to_x0_eps(pred_type, out_, x, a):
    """DDIMScheduler.step, step 3: predicted x_0 and epsilon from the model output."""
    b = 1 - a
    if pred_type == "epsilon":
        x0 = (x - b ** 0.5 * out_) / a ** 0.5
        eps = out_
    elif pred_type == "sample":
        x0 = out_
        eps = (x - a ** 0.5 * x0) / b ** 0.5
    elif pred_type == "v_prediction":
        x0 = a ** 0.5 * x - b ** 0.5 * out_
        eps = a ** 0.5 * out_ + b ** 0.5 * x
    else:
        raise ValueError(pred_type)
    return x0, eps


def ddim_sample(abar, x, n, spacing, offset, set_alpha_to_one, pred_type):
    """DDIMScheduler.step with eta = 0, clip_sample False, prev_timestep = t - T // n."""
    final = torch.tensor(1.0, dtype=torch.float64) if set_alpha_to_one else abar[0]
    for t in ddim_timesteps(spacing, n, offset):
        t = int(t)
        prev = t - T // n
        a = abar[t]
        a_prev = abar[prev] if prev >= 0 else final
        x0, eps = to_x0_eps(pred_type, vp_model(x, t), x, a)
        x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x


def ddim_invert(abar, x, n, spacing, offset, set_alpha_to_one):
    """DDIMInverseScheduler.set_timesteps + step (epsilon prediction): timesteps ascending, the model is
    evaluated at the target timestep t with the current latent, source level t - T // n."""
    initial = torch.tensor(1.0, dtype=torch.float64) if set_alpha_to_one else abar[0]
    if spacing == "leading":
        ts = (np.arange(0, n) * (T // n)).round().astype(np.int64) + offset
    elif spacing == "trailing":
        ts = np.round(np.arange(T, 0, -T / n)[::-1]).astype(np.int64) - 1
    else:
        raise ValueError(spacing)
    for prev_timestep in ts:
        prev_timestep = int(prev_timestep)
        timestep = min(prev_timestep - T // n, T - 1)
        a = abar[timestep] if timestep >= 0 else initial
        a_prev = abar[prev_timestep]
        eps = vp_model(x, prev_timestep)
        x0 = (x - (1 - a) ** 0.5 * eps) / a ** 0.5
        x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x


def edm_sample(x, sigmas, heun):
    """Karras et al. 2022 Algorithm 2 with S_churn = 0 (so deterministic: Algorithm 1 with sigma(t) = t, s(t) = 1)."""
    for i in range(len(sigmas) - 1):
        s, s_next = float(sigmas[i]), float(sigmas[i + 1])
        d = (x - edm_model(x, s)) / s
        x_next = x + (s_next - s) * d
        if heun and s_next != 0:
            d2 = (x_next - edm_model(x_next, s_next)) / s_next
            x_next = x + (s_next - s) * (0.5 * d + 0.5 * d2)
        x = x_next
    return x


def ddpm_sample(abar, x, n, noises, pred_type):
    """DDPMScheduler.set_timesteps(n) (leading, offset 0) + DDPMScheduler.step, variance_type fixed_small,
    clip_sample False; prev_t = next grid entry (previous_timestep), alpha_prod_t_prev = 1 after the last."""
    ts = ddim_timesteps("leading", n, 0)
    for i, t in enumerate(ts):
        t = int(t)
        prev_t = int(ts[i + 1]) if i + 1 < len(ts) else -1
        a = abar[t]
        a_prev = abar[prev_t] if prev_t >= 0 else torch.tensor(1.0, dtype=torch.float64)
        cur_alpha = a / a_prev
        cur_beta = 1 - cur_alpha
        x0, _ = to_x0_eps(pred_type, vp_model(x, t), x, a)
        mean = (a_prev ** 0.5 * cur_beta) / (1 - a) * x0 + cur_alpha ** 0.5 * (1 - a_prev) / (1 - a) * x
        if t > 0:
            var = torch.clamp((1 - a_prev) / (1 - a) * cur_beta, min=1e-20)
            mean = mean + var ** 0.5 * noises[i]
        x = mean
    return x


def ddim_eta_sample(abar, x, n, eta, noises):
    """DDIMScheduler.step with eta > 0 (leading, offset 1, set_alpha_to_one False, epsilon, clip False)."""
    for i, t in enumerate(ddim_timesteps("leading", n, 1)):
        t = int(t)
        prev = t - T // n
        a = abar[t]
        a_prev = abar[prev] if prev >= 0 else abar[0]
        x0, eps = to_x0_eps("epsilon", vp_model(x, t), x, a)
        variance = (1 - a_prev) / (1 - a) * (1 - a / a_prev)
        std = eta * variance ** 0.5
        x = a_prev ** 0.5 * x0 + (1 - a_prev - std ** 2) ** 0.5 * eps + std * noises[i]
    return x


torch.manual_seed(20240607)
sd = out["scaled_linear.abar"]
xT = torch.randn(3, 4, dtype=torch.float64)
out["ddim.xT"] = xT
out["ddim.eps_leading10"] = ddim_sample(sd, xT, 10, "leading", 1, False, "epsilon")
out["ddim.v_trailing7"] = ddim_sample(sd, xT, 7, "trailing", 0, True, "v_prediction")
out["ddim.sample_linspace12"] = ddim_sample(out["linear.abar"], xT, 12, "linspace", 0, False, "sample")
x0 = torch.randn(3, 4, dtype=torch.float64)
out["inv.x0"] = x0
out["inv.leading10"] = ddim_invert(sd, x0, 10, "leading", 1, False)
out["inv.trailing8"] = ddim_invert(sd, x0, 8, "trailing", 0, True)
z = torch.randn(3, 4, dtype=torch.float64)
out["edm.z"] = z
k18 = out["karras.18"]
out["edm.euler18"] = edm_sample(z * k18[0], k18, heun=False)
out["edm.heun18"] = edm_sample(z * k18[0], k18, heun=True)

noises = torch.randn(10, 3, 4, dtype=torch.float64)
out["ddpm.noise"] = noises
out["ddpm.eps10"] = ddpm_sample(out["linear.abar"], xT, 10, noises, "epsilon")
out["ddpm.v10"] = ddpm_sample(out["linear.abar"], xT, 10, noises, "v_prediction")
out["ddim.eta07_10"] = ddim_eta_sample(sd, xT, 10, 0.7, noises)

# ---------------------------------------------------------------------------------------------- write


path = sys.argv[1] if len(sys.argv) > 1 else "schedules.safetensors"
write_safetensors(path, out, {"generator": "gen_schedules.py", "torch": torch.__version__, "seed": "20240607"})
print(f"wrote {len(out)} tensors to {path}")
