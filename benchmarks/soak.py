"""Soak benchmark (not a test): many small files through ``domaug run --workers 2``.

Writes N small PNG files (default 10 000, 64×64 RGB, 100 per folder), runs the real
CLI on them in a subprocess and, while it runs, samples every ``--interval`` seconds:

- the resident memory (VmRSS from /proc/<pid>/status) of the CLI process and of each
  of its child processes (the pool's workers; no psutil needed);
- the number of manifest lines written (throughput over time).

At the end every output is verified: one ``ok`` manifest line per (input, variant),
each file on disk with the recorded sha256, nothing else in OUTPUT. Reports RSS per
worker (first vs last 20 % of the run: growth = leak) and throughput per tenth of the
run, and writes ``benchmarks/results/soak[-N].json`` and ``.md``.

    /work/venv/bin/python benchmarks/soak.py                 # 10 000 files
    /work/venv/bin/python benchmarks/soak.py --files 2000    # shorter
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIPELINE = """\
domaug_format: 1
pipeline:
  name: Compose
  transforms:
    - {name: core.Flip}
    - {name: core.GaussianNoise}
    - {name: core.Rotate90, params: {p: 0.5}}
    - {name: core.BrightnessContrast, params: {p: 0.5}}
"""


def make_inputs(root: Path, n: int, size: int) -> None:
    import numpy as np
    from PIL import Image
    from skimage import data

    base = np.ascontiguousarray(data.astronaut()[:: 512 // size, :: 512 // size][:size, :size])
    for i in range(n):
        folder = root / f"d{i // 100:04d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        img = np.roll(base, (3 * i) % size, axis=(i % 2))
        Image.fromarray(img).save(folder / f"f{i:06d}.png", compress_level=1)


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc/*/stat ppid)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return 0


def verify(out: Path, n_expected: int) -> dict:
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    keys = {(r["input"], r["variant"]) for r in records}
    bad, files = [], set()
    for r in records:
        if r["status"] != "ok":
            bad.append(f"{r['input']}: {r.get('error')}")
            continue
        for rel, digest in r["files"].items():
            files.add(rel)
            if hashlib.sha256((out / rel).read_bytes()).hexdigest() != digest:
                bad.append(f"{rel}: sha256 differs")
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    on_disk -= {"run.json", "manifest.jsonl"}
    return {"records": len(records), "unique_keys": len(keys), "expected": n_expected, "bad": bad[:10],
            "n_bad": len(bad), "extra_files": sorted(on_disk - files)[:10], "missing_files": sorted(files - on_disk)[:10],
            "ok": not bad and len(records) == len(keys) == n_expected and on_disk == files}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=64, help="image side in pixels")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--variants", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.5, help="sampling period, seconds")
    ap.add_argument("--workdir", default=None, help="where INPUT/OUTPUT go (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep INPUT/OUTPUT")
    args = ap.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="domaug-soak-"))
    src, out, pipe = work / "in", work / "out", work / "pipeline.yaml"
    pipe.write_text(PIPELINE)
    t0 = time.perf_counter()
    if not src.exists():
        make_inputs(src, args.files, args.size)
    print(f"inputs: {args.files} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-c", "from domaug.cli.main import main; main()", "run", str(pipe), str(src), str(out),
           "--workers", str(args.workers), "--variants", str(args.variants), "--seed", "1", "-q"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    while proc.poll() is None:
        t = time.perf_counter() - start
        kids = {pid: rss_kb(pid) for pid in children(proc.pid)}
        samples.append({"t": round(t, 2), "lines": count_lines(out / "manifest.jsonl"), "parent_kb": rss_kb(proc.pid),
                        "workers_kb": {str(k): v for k, v in kids.items() if v is not None}})
        time.sleep(args.interval)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    n_expected = args.files * args.variants
    check = verify(out, n_expected)

    # memory per worker: median of the first vs the last 20 % of its samples
    per_worker: dict[str, list[tuple[float, int]]] = {}
    for s in samples:
        for pid, kb in s["workers_kb"].items():
            per_worker.setdefault(pid, []).append((s["t"], kb))
    workers = []
    for pid, series in per_worker.items():
        if len(series) < 10:
            continue
        k = max(1, len(series) // 5)
        first = statistics.median(v for _, v in series[:k])
        last = statistics.median(v for _, v in series[-k:])
        workers.append({"pid": int(pid), "samples": len(series), "first_mb": round(first / 1024, 1),
                        "last_mb": round(last / 1024, 1), "max_mb": round(max(v for _, v in series) / 1024, 1),
                        "growth_mb": round((last - first) / 1024, 1)})
    # throughput per tenth of the run (by manifest lines over time)
    tenths = []
    busy = [s for s in samples if s["lines"] > 0]
    if len(busy) >= 11:
        for i in range(10):
            a, b = busy[i * (len(busy) - 1) // 10], busy[(i + 1) * (len(busy) - 1) // 10]
            dt = b["t"] - a["t"]
            tenths.append(round((b["lines"] - a["lines"]) / dt, 1) if dt > 0 else None)
    parent = [s["parent_kb"] for s in samples if s["parent_kb"]]
    result = {
        "files": args.files, "variants": args.variants, "size": args.size, "workers": args.workers,
        "exit_code": proc.returncode, "seconds": round(seconds, 1), "files_per_s": round(n_expected / seconds, 1),
        "summary_line": stderr.strip().splitlines()[-1] if stderr.strip() else "",
        "verify": check, "workers_rss": workers,
        "parent_rss_mb": {"first": round(parent[0] / 1024, 1), "last": round(parent[-1] / 1024, 1),
                          "max": round(max(parent) / 1024, 1)} if parent else None,
        "throughput_per_tenth_files_s": tenths, "samples": samples,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    name = "soak" if args.files == 10_000 else f"soak-{args.files}"
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    md = [f"# Soak: {args.files} files × {args.variants} variant, {args.size}² PNG, --workers {args.workers}", "",
          f"- exit code {proc.returncode}, {seconds:.1f} s, {n_expected / seconds:.1f} outputs/s",
          f"- verified: {check['ok']} ({check['records']} records, {check['n_bad']} bad, "
          f"{len(check['extra_files'])} extra, {len(check['missing_files'])} missing)",
          f"- throughput per tenth of the run (outputs/s): {tenths}",
          f"- parent RSS MB: {result['parent_rss_mb']}", "",
          "| worker pid | samples | first MB | last MB | max MB | growth MB |",
          "|---|---|---|---|---|---|"]
    md += [f"| {w['pid']} | {w['samples']} | {w['first_mb']} | {w['last_mb']} | {w['max_mb']} | {w['growth_mb']} |"
           for w in workers]
    (results / f"{name}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    if not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if check["ok"] and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
