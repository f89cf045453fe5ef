"""Time the core spatial transforms (best of N, one process).

    /work/venv/bin/python benchmarks/bench_spatial.py [--repeat 7]

Targets from the issue: 3-D 128³ float32 elastic ≤ ~150 ms; 2-D 1024² RGB elastic well
under 100 ms. For reference it also times a Simard-style dense field (uniform noise
Gaussian-smoothed at full resolution, what Albumentations/MONAI-3D do) for the same shape.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage as ndi

import domaug
from domaug.ops import elastic


def best(fn, repeat: int) -> tuple[float, float]:
    """Best wall time and best process CPU time (ms); CPU time is robust to a busy machine."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall) * 1000, min(cpu) * 1000


def dense_gaussian_field(shape, sigma, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([ndi.gaussian_filter(rng.uniform(-1, 1, shape).astype(np.float32), sigma)
                     for _ in shape])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    n = ap.parse_args().repeat
    rng = np.random.default_rng(0)
    vol = rng.random((128, 128, 128)).astype(np.float32)
    vol_mask = (vol > 0.5).astype(np.uint8)
    rgb = rng.integers(0, 255, (1024, 1024, 3)).astype(np.uint8)
    rgb_mask = rng.integers(0, 5, (1024, 1024)).astype(np.uint8)
    get = domaug.get_transform
    el = get("core.ElasticDeformation", max_displacement_mm=6.0)
    rows = [
        ("elastic 128³ float32", lambda: el(image=vol, meta={"spacing": [1.0, 1.0, 1.0]}, rng=1)),
        ("elastic 128³ float32 + mask", lambda: el(image=vol, mask=vol_mask, meta={"spacing": [1.0, 1.0, 1.0]}, rng=1)),
        ("elastic 1024² RGB uint8", lambda: el(image=rgb, rng=1)),
        ("elastic 1024² RGB + mask", lambda: el(image=rgb, mask=rgb_mask, rng=1)),
        ("  field only 128³ (control grid)", lambda: elastic.control_grid_field((128,) * 3, seed=1, max_disp_px_per_axis=6)),
        ("  field only 128³ (dense Gaussian σ=8, reference)", lambda: dense_gaussian_field((128,) * 3, 8)),
        ("affine 1024² RGB uint8", lambda: get("core.Affine")(image=rgb, rng=1)),
        ("affine 128³ float32 (in-plane)", lambda: get("core.Affine")(image=vol, meta={"spacing": [1, 1, 1]}, rng=1)),
        ("resize ×0.5 1024² RGB (antialiased)", lambda: get("core.Resize", scale=0.5)(image=rgb, rng=1)),
        ("resize ×2 1024² RGB", lambda: get("core.Resize", scale=2.0)(image=rgb, rng=1)),
        ("random crop 1024² RGB", lambda: get("core.RandomCrop")(image=rgb, rng=1)),
    ]
    print(f"{'case (best of %d)' % n:52s} {'wall ms':>8s} {'cpu ms':>8s}")
    for name, fn in rows:
        wall, cpu = best(fn, n)
        print(f"{name:52s} {wall:8.1f} {cpu:8.1f}")


if __name__ == "__main__":
    main()
