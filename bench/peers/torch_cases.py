#!/usr/bin/python3
"""The PyTorch side of bench/compare: times one case and prints the same lines as dev.distillery.bench.CompareRunner.

    /usr/bin/python3 bench/peers/torch_cases.py CASE [--reps N] [--threads T] [--warmup-ms MS] [--min-warmup N]
                                                     [--min-time-ms MS] [--max-reps N] [--seed S]
    /usr/bin/python3 bench/peers/torch_cases.py --list

Each case mirrors the Java case of the same name (bench/src/main/java/dev/distillery/bench/CompareCases.java and
Specs.java): same shapes, F32, the same op sequence. Nothing here needs autograd: forward-only cases run under
torch.no_grad(), and backward passes are explicit calls, as on the Java side.

Output (stdout):
    # side=pytorch torch=1.13.1 blas=openblas-pthread:/usr/lib/.../libopenblasp-r0.3.21.so blas_info=generic mkldnn=True threads=2
    case=gemm-256 side=pytorch threads=2 warmup=40 reps=12 check=12.5 ms=0.41,0.40,...

To add a case: write a factory below that makes the inputs and returns a zero-argument callable doing the work once,
and register it in CASES under the same name as in CompareCases.java.
"""

import argparse
import math
import os
import re
import sys
import time

import torch
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------- case factories
# Each factory makes its inputs with a seeded generator and returns a zero-argument callable that runs the work
# once and returns the outputs (a tensor or a tuple of tensors).

def _randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


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


# ---------------------------------------------------------------------------------------------- the registry
# Same names, same order as CompareCases.java. Later cases (resblock-attn-step, unet-step, ...) go here too.

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
}


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
    args = ap.parse_args(argv)
    if not args.list and args.case is None:
        ap.error("give a CASE or --list")
    if args.case is not None and args.case not in CASES:
        ap.error("unknown case '%s'; known cases: %s" % (args.case, " ".join(CASES)))
    if args.reps < 1:
        ap.error("--reps must be >= 1")
    return args


def main(argv):
    args = parse_args(argv)
    if args.list:
        for name in CASES:
            print(name)
        return 0
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print("# side=pytorch torch=%s blas=%s blas_info=%s mkldnn=%s threads=%d python=%s" % (
        torch.__version__, blas_in_use(), config_value("BLAS_INFO"), torch.backends.mkldnn.is_available(),
        torch.get_num_threads(), sys.version.split()[0]), flush=True)

    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        work = CASES[args.case](gen)
        out = None
        warm = 0
        t0 = time.perf_counter()
        while warm < args.min_warmup or (time.perf_counter() - t0) * 1e3 < args.warmup_ms:
            out = work()
            warm += 1
        times = []
        timed = 0.0
        max_reps = max(args.max_reps, args.reps)
        while len(times) < args.reps or (timed * 1e3 < args.min_time_ms and len(times) < max_reps):
            s = time.perf_counter()
            out = work()
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
