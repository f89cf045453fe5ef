"""Speed of the medical transforms on a 128³ float32 volume (and one 2-D CT slice).

Run: ``python benchmarks/bench_medical.py [size]``. Prints the median of 5 runs per
transform (after one warm-up), single process.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import domaug


def bench(name: str, sample: dict, repeat: int = 5, **kw) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (all threads), seconds.

    On a busy machine the CPU time is the better estimate of the cost.
    """
    t = domaug.get_transform(name, **kw)
    t(rng=0, **sample)
    wall, cpu = [], []
    for k in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        t(rng=k + 1, **sample)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    rng = np.random.default_rng(0)
    zz, yy, xx = np.mgrid[0:n, 0:n, 0:n]
    r = np.sqrt((zz - n / 2) ** 2 + (yy - n / 2) ** 2 + (xx - n / 2) ** 2)
    vol = (np.where(r < 0.4 * n, 500.0, 20.0) + rng.normal(0, 5, (n,) * 3)).astype(np.float32)
    mask = (r < 0.4 * n).astype(np.uint8)
    sample = {"image": vol, "meta": {"spacing": [2.0, 1.0, 1.0]}}
    cases = [
        ("medical.RicianNoise", {}, sample),
        ("medical.BiasField", {}, sample),
        ("medical.ElasticDeformation", {}, sample),
        ("medical.ElasticDeformation", {}, {**sample, "mask": mask}),
        ("medical.Ghosting", {}, sample),
        ("medical.GibbsRinging", {}, sample),
        ("medical.Spike", {}, sample),
        ("medical.Motion", {}, sample),
        ("medical.SliceThickness", {}, sample),
        ("medical.LowDoseCT", {}, {**sample, "image": vol - 1000}),
        ("medical.SyntheticLesion", {}, {**sample, "mask": mask}),
    ]
    print(f"volume {n}³ float32                          wall ms   cpu ms")
    for name, kw, s in cases:
        extra = " (+mask)" if "mask" in s else ""
        wall, cpu = bench(name, s, **kw)
        print(f"  {name + extra:40s} {wall * 1000:8.1f} {cpu * 1000:8.1f}")
    ct = np.where(r[n // 2] < 0.4 * n, 40.0, -1000.0).astype(np.int16)
    for size in (128, 256):
        img = np.resize(ct, (size, size)) if size != n else ct
        wall, cpu = bench("medical.LowDoseCT", {"image": img}, repeat=3)
        print(f"  {'medical.LowDoseCT projection ' + str(size) + '²':40s} {wall * 1000:8.1f} {cpu * 1000:8.1f}")


if __name__ == "__main__":
    main()
