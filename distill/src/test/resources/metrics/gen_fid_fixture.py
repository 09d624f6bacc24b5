#!/usr/bin/env python3
"""Generates fid_fixture.json: small feature sets and their Frechet distance computed with numpy.

Run from this directory with `python3 gen_fid_fixture.py` (numpy only; scipy is not needed).
The reference value uses the eigenvalues of the non-symmetric product S1 @ S2 (what scipy.linalg.sqrtm's trace
amounts to), which is independent of the Java code path (eigen-decomposition of sqrt(S1) S2 sqrt(S1)); the script
checks it against numpy.linalg.eigh on that symmetric form before writing.
"""
import json

import numpy as np


def stats(x):
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1)


def fid_eigvals(x, y):
    mu1, s1 = stats(x)
    mu2, s2 = stats(y)
    ev = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def fid_eigh(x, y):
    mu1, s1 = stats(x)
    mu2, s2 = stats(y)
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r @ s2 @ r
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def case(name, rng, n, m, d):
    mix_a = rng.normal(size=(d, d))
    mix_b = rng.normal(size=(d, d)) * 0.7 + np.eye(d)
    x = rng.normal(size=(n, d)) @ mix_a + rng.normal(size=d)
    y = rng.normal(size=(m, d)) @ mix_b + rng.normal(size=d) * 0.5
    # Round the inputs so the JSON text is short and the Java side reads exactly the same doubles.
    x = np.round(x, 4)
    y = np.round(y, 4)
    expected = fid_eigvals(x, y)
    check = fid_eigh(x, y)
    assert abs(expected - check) <= 1e-9 * max(1.0, abs(expected)), (name, expected, check)
    return {"name": name, "dim": d, "a": x.tolist(), "b": y.tolist(), "fid": expected}


def main():
    rng = np.random.default_rng(20261125)
    cases = [
        case("full-rank d=5 n=40 m=30", rng, 40, 30, 5),
        case("full-rank d=8 n=64 m=50", rng, 64, 50, 8),
    ]
    with open("fid_fixture.json", "w") as f:
        json.dump({"generator": "gen_fid_fixture.py (numpy " + np.__version__ + ")", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
