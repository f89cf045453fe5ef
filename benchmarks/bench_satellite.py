"""Time every satellite transform on a 4-band uint16 1024×1024 raster (best of N, one process).

    /work/venv/bin/python benchmarks/bench_satellite.py [--repeat 5]

The scene is smooth land-cover-like reflectance ×10⁴ with a nodata (0) border and a
10 m UTM geotransform, as a Sentinel-2 10 m tile crop would be.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import domaug
from domaug.ops.fields import smooth_field

NAMES = ["satellite.CloudCover", "satellite.Haze", "satellite.ResolutionChange", "satellite.SensorNoise",
         "satellite.Striping", "satellite.BandMisregistration", "satellite.Illumination"]


def scene(size: int = 1024) -> dict:
    bands = [np.clip(1200 + 700 * smooth_field((size, size), seed=b, correlation_px=12), 1, None) for b in range(4)]
    image = np.stack(bands, -1).astype(np.uint16)
    image[:, :16] = 0
    meta = {"nodata": 0, "transform": [500000.0, 10.0, 0.0, 4200000.0, 0.0, -10.0], "crs": "EPSG:32633",
            "band_names": ["blue", "green", "red", "nir"]}
    return {"image": image, "meta": meta}


def best(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sample = scene()
    results = {}
    for name in NAMES:
        t = domaug.get_transform(name)
        seconds = best(lambda: t(rng=1, **sample), args.repeat)
        results[name] = round(seconds * 1000, 1)
        print(f"{name:32s} {seconds * 1000:8.1f} ms  ({4 * 1024 * 1024 / seconds / 1e6:6.1f} Mpx·band/s)")
    out = Path(__file__).parent / "results" / "satellite.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"case": "4-band uint16 1024x1024", "ms": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
