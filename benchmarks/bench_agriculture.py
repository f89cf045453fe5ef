"""Time every agriculture transform on a 5-band uint16 1280×960 frame (best of N, one process).

    /work/venv/bin/python benchmarks/bench_agriculture.py [--repeat 5] [--micasense DIR]

Uses a synthetic crop field (rows of canopy on textured soil) of the MicaSense RedEdge
frame size, or the real capture when ``--micasense`` points to the folder holding
``IMG_0001_1.tif`` … ``_5.tif`` (stacked blue, green, red, NIR, red edge; needs rasterio).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import domaug

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from contract_samples import AGRI_BANDS, agri_multispectral  # noqa: E402


def best(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def frame(folder: str | None) -> np.ndarray:
    if folder is None:
        return (agri_multispectral(960, 1280).astype(np.uint32) * 16).astype(np.uint16)
    import rasterio

    return np.stack([rasterio.open(Path(folder) / f"IMG_0001_{k}.tif").read(1) for k in range(1, 6)], -1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--micasense", default=None)
    args = ap.parse_args()
    image = frame(args.micasense)
    meta = {"band_names": list(AGRI_BANDS), "gsd_m": 0.02}
    print(f"frame {image.shape} {image.dtype} ({'MicaSense' if args.micasense else 'synthetic'})")
    for name in sorted(n for n in domaug.list_transforms() if n.startswith("agriculture.")):
        t = domaug.get_transform(name)
        ms = best(lambda: t(image=image, meta=meta, rng=1), args.repeat)
        print(f"{name:32s} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
