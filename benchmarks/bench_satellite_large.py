"""Peak memory of windowed GeoTIFF processing on a 20000×20000×4 uint16 raster (3.2 GB).

    /work/venv/bin/python benchmarks/bench_satellite_large.py [--size 20000] [--tile 1024] [--dir /tmp]

Generates a tiled uint16 GeoTIFF (smooth reflectance ×10⁴, nodata border) window by
window, then augments it with CloudCover + Haze + SensorNoise through
``domaug_satellite.geotiff_windows.run_windowed`` in a fresh process and reports that
process's wall time and peak RSS (goal: < 1.5 GB). Files are deleted unless --keep.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROCESS = r"""
import resource, sys, time, json
from pathlib import Path
import domaug
from domaug_satellite.geotiff_windows import run_windowed
src, dst, tile = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
pipe = domaug.Compose([domaug.get_transform("satellite.CloudCover", coverage=0.3),
                       domaug.get_transform("satellite.Haze"), domaug.get_transform("satellite.SensorNoise")])
t0 = time.perf_counter()
applied = run_windowed(pipe, src, dst, seed=1, tile=tile)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "coverage": applied[0]["params"]["coverage"]}))
"""


def generate(path: Path, size: int) -> None:
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window

    from domaug.ops.fields import smooth_field

    profile = dict(driver="GTiff", height=size, width=size, count=4, dtype="uint16", nodata=0, tiled=True,
                   blockxsize=512, blockysize=512, crs="EPSG:32633", bigtiff="YES",
                   transform=Affine(10, 0, 300000, 0, -10, 5000000))
    step = 2048
    with rasterio.open(path, "w", **profile) as dst:
        dst.descriptions = ("blue", "green", "red", "nir")
        for r in range(0, size, step):
            for c in range(0, size, step):
                h, w = min(step, size - r), min(step, size - c)
                f = smooth_field((h, w), seed=7, correlation_px=40, offset=(r, c))
                block = np.stack([np.clip(1200 + (600 + 100 * b) * f, 1, None) for b in range(4)]).astype(np.uint16)
                if c == 0:
                    block[:, :, :32] = 0
                dst.write(block, window=Window(c, r, w, h))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--tile", type=int, default=1024)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="domaug-large-", dir=args.dir))
    src, dst = folder / "large.tif", folder / "large.aug0.tif"
    t0 = time.perf_counter()
    generate(src, args.size)
    gen = time.perf_counter() - t0
    out = subprocess.run([sys.executable, "-c", PROCESS, str(src), str(dst), str(args.tile)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(size=args.size, tile=args.tile, generate_seconds=round(gen, 1),
                  output_bytes=dst.stat().st_size)
    print(json.dumps(result, indent=2))
    (Path(__file__).parent / "results").mkdir(exist_ok=True)
    (Path(__file__).parent / "results" / "satellite_large.json").write_text(json.dumps(result, indent=2) + "\n")
    if not args.keep:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
