"""Batch throughput of ``domaug run``: files/s with 1 and 2 process workers, and Dask vs processes.

    /work/venv/bin/python benchmarks/batch.py [--files 200] [--size 512] [--repeat 1]

Generates a folder of PNG images (scikit-image's astronaut, shifted, resized to
size×size), runs the same pipeline (Flip + GaussianNoise + Gamma, with SSIM/PSNR
recorded) with the process pool at 1 and 2 workers and with a Dask LocalCluster of 2
worker processes, and reports wall time (including pool/cluster start-up), files/s
and MB/s. Goals from the issue: 2 workers ≥ 1.7× one worker; Dask within 15% of the
process pool. Results go to ``benchmarks/results/batch.json``. Numbers are noisy on a
shared machine: report the machine's core count and load with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

PIPELINE = """\
domaug_format: 1
pipeline:
  name: Compose
  transforms:
    - {name: core.Flip}
    - {name: core.GaussianNoise}
    - {name: core.Gamma}
"""


def make_folder(root: Path, n: int, size: int) -> int:
    from PIL import Image
    from skimage import data, transform

    base = (transform.resize(data.astronaut(), (size, size), anti_aliasing=True) * 255).astype(np.uint8)
    total = 0
    for i in range(n):
        folder = root / f"class{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"img{i:04d}.png"
        Image.fromarray(np.roll(base, (3 * i, 5 * i), axis=(0, 1))).save(path)
        total += path.stat().st_size
    return total


def one_run(pipe: Path, src: Path, out: Path, executor: str, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its finished children)."""
    import resource

    from domaug.batch.runner import RunOptions, execute, prepare

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    if out.exists():
        shutil.rmtree(out)
    options = RunOptions(pipeline=str(pipe), input=str(src), output=str(out), seed=0, workers=workers,
                         executor=executor, quiet=True)
    t0, c0 = time.perf_counter(), cpu()
    summary = execute(prepare(options), echo=lambda m: None, progress=False)
    elapsed = time.perf_counter() - t0
    assert not summary.failures, summary.failures
    return elapsed, cpu() - c0


def dask_startup() -> float:
    """Seconds to start and stop a 2-process LocalCluster (the fixed cost of --executor dask)."""
    import logging

    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    client = Client(cluster)
    client.close()
    cluster.close()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=2, help="rounds over the configurations (best is kept)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="domaug-bench-"))
    try:
        src = tmp / "in"
        nbytes = make_folder(src, args.files, args.size)
        pipe = tmp / "pipeline.yaml"
        pipe.write_text(PIPELINE)
        configs = [("process", 1), ("process", 2), ("dask", 2)]
        runs: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(args.repeat):  # round-robin, so load drift hits every configuration alike
            for executor, workers in configs:
                load = os.getloadavg()[0]
                wall, cpu_s = one_run(pipe, src, tmp / f"out-{executor}-{workers}", executor, workers)
                runs.setdefault(f"{executor} x{workers}", []).append((wall, cpu_s, load))
        rows = {}
        for label, results in runs.items():
            best, cpu_s, load = min(results)
            rows[label] = {"seconds": round(best, 2), "files_per_s": round(args.files / best, 1),
                           "mb_per_s": round(nbytes / 1e6 / best, 1), "cpu_seconds": round(cpu_s, 1),
                           "cpu_ms_per_file": round(cpu_s / args.files * 1000, 1), "load_avg_1min_before": load,
                           "all_seconds": [round(r[0], 2) for r in results]}
            print(f"{label:<12} {best:7.2f} s  {args.files / best:7.1f} files/s  {nbytes / 1e6 / best:6.1f} MB/s"
                  f"  cpu {cpu_s / args.files * 1000:6.1f} ms/file  (load {load:.1f})", flush=True)
        startup = min(dask_startup() for _ in range(2))
        speedup = rows["process x1"]["seconds"] / rows["process x2"]["seconds"]
        dask_overhead = rows["dask x2"]["seconds"] / rows["process x2"]["seconds"] - 1
        steady = (rows["dask x2"]["seconds"] - startup) / rows["process x2"]["seconds"] - 1
        print(f"speed-up 2 workers vs 1: {speedup:.2f}x (goal >= 1.7x)")
        print(f"dask vs process pool (2 workers): {dask_overhead * 100:+.1f}% time (goal within 15%); "
              f"LocalCluster start+stop {startup:.1f} s; without it {steady * 100:+.1f}%")
        result = {
            "benchmark": "batch", "files": args.files, "size": args.size, "input_mb": round(nbytes / 1e6, 1),
            "pipeline": PIPELINE, "cpu_count": os.cpu_count(), "load_avg": list(os.getloadavg()),
            "python": platform.python_version(), "runs": rows, "speedup_2_vs_1": round(speedup, 2),
            "dask_overhead": round(dask_overhead, 3), "dask_startup_s": round(startup, 2),
            "dask_overhead_without_startup": round(steady, 3),
            "note": "wall time including pool / LocalCluster start-up; shared machine, numbers are noisy",
        }
        out = Path(__file__).parent / "results"
        out.mkdir(exist_ok=True)
        (out / "batch.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out / 'batch.json'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
