"""The windowed-GeoTIFF memory case of the multiband suite: a big tiled raster in a fresh process.

Writes a ``size``² 4-band uint16 tiled GeoTIFF, runs the satellite windowed path over it in
a subprocess and reports wall time and peak RSS (VmHWM); the issue's target is < 1.5 GB for
20000² (3.2 GB of pixels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness import Case

WINDOWED = r"""
import json, resource, sys, time
from pathlib import Path
import domaug
from domaug_satellite.geotiff_windows import run_windowed
src, dst, tile = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
pipe = domaug.Compose([domaug.get_transform("satellite.CloudCover", coverage=0.3),
                       domaug.get_transform("satellite.Haze"), domaug.get_transform("satellite.SensorNoise")])
t0 = time.perf_counter()
run_windowed(pipe, src, dst, seed=1, tile=tile)
seconds = time.perf_counter() - t0
with open("/proc/self/status") as f:  # VmHWM: this process's peak (ru_maxrss keeps the forking parent's)
    hwm = [int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:")]
peak = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak}))
"""


def _write_large(path: Path, size: int) -> None:
    """A tiled 4-band uint16 GeoTIFF (smooth reflectance ×10⁴, nodata collar), block by block."""
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


def windowed_geotiff(size: int, tile: int = 1024) -> dict:
    """Wall time and peak RSS of windowed CloudCover+Haze+SensorNoise over a size² GeoTIFF."""
    import json
    import subprocess
    import sys
    import tempfile
    import time

    with tempfile.TemporaryDirectory(prefix="domaug-large-") as tmp:
        src, dst = Path(tmp) / "large.tif", Path(tmp) / "large.aug0.tif"
        t0 = time.perf_counter()
        _write_large(src, size)
        gen = time.perf_counter() - t0
        res = subprocess.run([sys.executable, "-c", WINDOWED, str(src), str(dst), str(tile)],
                             capture_output=True, text=True, timeout=3600)
        if res.returncode != 0:
            return {"error": (res.stderr.strip().splitlines() or ["?"])[-1][:160], "size": size}
        out = json.loads(res.stdout.strip().splitlines()[-1])
        out.update(size=size, tile=tile, generate_seconds=round(gen, 1), input_mb=src.stat().st_size / 2**20)
        return out


def large_case(size: int) -> Case:
    """One 1024² window of the pipeline timed in-process; the whole-file run in the note."""
    import domaug

    from cases.multiband import _err, _raiser, landsat4  # the multiband suite's inputs and error text

    try:
        big = windowed_geotiff(size)
    except Exception as exc:  # rasterio or the satellite plugin missing
        big = {"error": _err(exc), "size": size}
    if "error" in big:
        note = f"windowed {size}² run failed: {big['error']}"
    else:
        note = (f"whole {size}²×4 uint16 GeoTIFF ({big['input_mb']:.0f} MiB) windowed in a fresh process: "
                f"{big['seconds']:.1f} s, peak RSS {big['peak_rss_mb']:.0f} MiB (target < 1536 MiB at 20000²)")
    sample, _ = landsat4(1024)
    try:
        pipe = domaug.Compose([domaug.get_transform("satellite.CloudCover", coverage=0.3),
                               domaug.get_transform("satellite.Haze"), domaug.get_transform("satellite.SensorNoise")])
        rng = np.random.default_rng(0)
        ours = (lambda: pipe(rng=rng, **sample))
        ours()
    except Exception as exc:
        ours = _raiser(_err(exc))
    return Case("satellite.Compose(Cloud+Haze+Noise)", "1024x1024x4 uint16 window", ours, {},
                array=sample["image"], note=note, extra={"windowed_geotiff": big})


