"""`domaug run` on one huge GeoTIFF: wall time and peak memory of the whole process tree.

    /work/venv/bin/python benchmarks/batch_large.py [--size 20000] [--workers 1]

Writes a size² 4-band uint16 tiled GeoTIFF (smooth reflectance ×10⁴, nodata collar;
20000² = 3.2 GB of pixels), runs the real CLI ``domaug run`` on it with CloudCover +
Haze + SensorNoise (the batch engine switches to windows above 64 Mpx), and reports wall
time, MB/s and the peak resident memory: the peak of the largest single process
(``ru_maxrss`` of the children) and the peak of the sum over the CLI and its workers,
sampled every 20 ms from ``/proc``. The issue's target is < 1.5 GB at 20000². Results go
to ``benchmarks/results/batch-large.json``. Needs the satellite plugin (rasterio).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

def pipeline_yaml() -> str:
    """The pipeline of the multiband suite's windowed case, saved as a user would."""
    import domaug
    from domaug.serialize import dumps

    return dumps(domaug.Compose([domaug.get_transform("satellite.CloudCover", coverage=0.3),
                                 domaug.get_transform("satellite.Haze"), domaug.get_transform("satellite.SensorNoise")]))


def tree_rss_mb(root: int) -> float:
    """Resident memory (MiB) of ``root`` and all its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:  # the process ended while we looked
            continue
        pid = int(entry)
        children.setdefault(int(fields.get("PPid", "0").split()[0]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0.0)
        todo.extend(children.get(pid, ()))
    return total


def run_cli(pipe: Path, src: Path, out: Path, workers: int) -> dict:
    domaug = Path(sys.executable).with_name("domaug")
    cmd = [str(domaug), "run", str(pipe), str(src), str(out), "--seed", "1", "-j", str(workers), "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = 0.0
    while proc.poll() is None:
        peak_sum = max(peak_sum, tree_rss_mb(proc.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - t0
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"domaug run failed ({proc.returncode}): {(stderr or stdout).strip()[-400:]}")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_rss_sum_mb": round(peak_sum), "peak_rss_largest_process_mb": round(largest),
            "summary": stdout.strip().splitlines()[-1] if stdout.strip() else ""}


def main() -> None:
    from cases.large_geotiff import _write_large

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="domaug-batch-large-") as tmp:
        src_dir, out = Path(tmp) / "in", Path(tmp) / "out"
        src_dir.mkdir()
        src = src_dir / "scene.tif"
        t0 = time.perf_counter()
        _write_large(src, args.size)
        generate = time.perf_counter() - t0
        pipe = Path(tmp) / "pipeline.yaml"
        pipe_text = pipeline_yaml()
        pipe.write_text(pipe_text)
        res = run_cli(pipe, src_dir, out, args.workers)
        outputs = sorted(p.name for p in out.rglob("*.tif"))
        records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines() if line.strip()]
        res["windowed"] = all(r.get("windowed") for r in records) and bool(records)
        pixels_mb = args.size**2 * 4 * 2 / 2**20
        file_mb = src.stat().st_size / 2**20
    res.update(size=args.size, workers=args.workers, pixels_mib=round(pixels_mb), file_mib=round(file_mb), generate_seconds=round(generate, 1), pixel_mb_per_s=round(pixels_mb / res["seconds"], 1),
               outputs=outputs, target="peak RSS < 1536 MiB at 20000²", cpu_count=os.cpu_count(),
               load_avg=list(os.getloadavg()), python=platform.python_version(), pipeline=pipe_text,
               date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / "batch-large.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "pipeline"}, indent=1))


if __name__ == "__main__":
    main()
