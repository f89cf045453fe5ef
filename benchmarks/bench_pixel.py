"""Time the core pixel transforms and field builders (best of N, one process).

    /work/venv/bin/python benchmarks/bench_pixel.py [--repeat 7] [--size 1024]

Target from the issue: at most the time of Albumentations (OpenCV) on 512² and 1024²
RGB uint8. Albumentations is not a dependency; to compare, run the same sizes with the
peer venv (``benchmarks/.venv-peers``) if present: ``--albumentations`` does that in a
subprocess. ``DOMAUG_NUM_THREADS=1`` times the single-threaded kernels.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import domaug
from domaug.ops import fields

ALBU = """
import time, numpy as np, albumentations as A
rng = np.random.default_rng(0)
img = rng.integers(0, 255, ({size}, {size}, 3)).astype(np.uint8)
rows = [("GaussianBlur σ=2", A.GaussianBlur(sigma_limit=(2, 2), blur_limit=0, p=1)),
        ("MotionBlur 9 px", A.MotionBlur(blur_limit=(9, 9), p=1)),
        ("RandomBrightnessContrast", A.RandomBrightnessContrast(p=1)),
        ("RandomGamma", A.RandomGamma(p=1)), ("GaussNoise", A.GaussNoise(p=1)),
        ("ImageCompression q50", A.ImageCompression(quality_range=(50, 50), p=1)),
        ("CoarseDropout", A.CoarseDropout(p=1))]
for name, t in rows:
    t(image=img); best = 1e9
    for _ in range({n}):
        t0 = time.perf_counter(); t(image=img); best = min(best, time.perf_counter() - t0)
    print(f"albumentations {{name:37s}} {{best * 1000:8.1f}}")
"""


def best(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--albumentations", action="store_true")
    args = ap.parse_args()
    n, size = args.repeat, args.size
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (size, size, 3)).astype(np.uint8)
    get = domaug.get_transform
    rows = [
        ("GaussianBlur σ=2 px", get("core.GaussianBlur", sigma_px=2.0)),
        ("GaussianBlur σ=1 px", get("core.GaussianBlur", sigma_px=1.0)),
        ("MotionBlur 9 px @30°", get("core.MotionBlur", length_px=9, angle_deg=30)),
        ("MotionBlur 25 px @30°", get("core.MotionBlur", length_px=25, angle_deg=30)),
        ("BrightnessContrast", get("core.BrightnessContrast")),
        ("Gamma", get("core.Gamma")),
        ("GaussianNoise", get("core.GaussianNoise")),
        ("JPEGCompression q50", get("core.JPEGCompression", quality=50)),
        ("CoarseDropout", get("core.CoarseDropout")),
    ]
    print(f"{'case (' + str(size) + '² RGB uint8)':52s} best of {n} (ms)")
    for name, t in rows:
        print(f"domaug {name:45s} {best(lambda: t(image=rgb, rng=1), n):8.1f}")
    print(f"domaug {'fractal_noise 4 octaves (field only)':45s} "
          f"{best(lambda: fields.fractal_noise((size, size), seed=1, scale_px=size / 8), n):8.1f}")
    print(f"domaug {'smooth_field (field only)':45s} "
          f"{best(lambda: fields.smooth_field((size, size), seed=1, correlation_px=20), n):8.1f}")
    peers = Path(__file__).parent / ".venv-peers" / "bin" / "python"
    if args.albumentations and peers.exists():
        subprocess.run([str(peers), "-c", ALBU.format(size=size, n=n)], check=False)
    elif args.albumentations:
        print("albumentations: peer venv not found at", peers, file=sys.stderr)


if __name__ == "__main__":
    main()
