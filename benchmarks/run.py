"""Run the benchmark suites single-threaded, interleaved with the peers; write JSON + markdown.

    bash benchmarks/run.sh                               # builds the peers' venv once, then all suites
    benchmarks/.venv-peers/bin/python benchmarks/run.py  # the same, once the venv exists
    benchmarks/.venv-peers/bin/python benchmarks/run.py --suite generic --quick
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "DOMAUG_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import peak_rss_mb, run_case  # noqa: E402

SUITES = ["generic", "driving", "medical", "multiband", "startup"]


def _sequential_peers() -> dict:
    versions = {}
    try:
        import cv2

        cv2.setNumThreads(0)
        versions["opencv"] = cv2.__version__
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
        versions["torch"] = torch.__version__
    except ImportError:
        pass
    for mod in ("albumentations", "torchio", "monai"):
        try:
            versions[mod] = importlib.import_module(mod).__version__
        except ImportError:
            versions[mod] = None
    return versions


def _markdown(report: dict) -> str:
    lines = [f"Run {report['date']} on {report['machine']} (Python {report['python']}, numpy {report['numpy']}, "
             f"domaug {report['domaug']}; peers: " + ", ".join(f"{k} {v}" for k, v in report["peers"].items() if v) + ")",
             f"Peak RSS of the run: {report['peak_rss_mb']:.0f} MiB. Ratios: domaug ms / other ms in the same "
             "interleaved run (< 1 = domaug faster); differences below 1.3× are noise. The ratio of mean "
             "times is what a training loop pays over many random draws. Ratio vs memcpy: of medians "
             "(in brackets: fastest call / fastest memcpy of the run).",
             "", "| case | size | domaug ms (p10–p90) | peer ms | ratio vs peer | ratio of means | ratio vs memcpy | "
             "peak alloc MiB (domaug / peer) | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        t = r["timings"].get("domaug")
        ours = f"{t['median_ms']:.2f} ({t['p10_ms']:.2f}–{t['p90_ms']:.2f})" if t else "error"
        peers = [(k, v) for k, v in r["timings"].items() if k not in ("domaug", "memcpy")]
        peer_ms = "; ".join(f"{k} {v['median_ms']:.2f}" for k, v in peers) or "–"
        ratio = "; ".join(f"{k[3:]} {v:.2f}" for k, v in r["ratios"].items() if k != "vs_memcpy") or "–"
        mean_ratio = "; ".join(f"{v:.2f}" for v in r.get("mean_ratios", {}).values()) or "–"
        mem = r["ratios"].get("vs_memcpy")
        mem_min = r.get("min_ratios", {}).get("vs_memcpy")
        note = r.get("note", "")
        if r["errors"]:
            note = (note + " " + "; ".join(f"{k}: {v}" for k, v in r["errors"].items())).strip()
        alloc = r.get("peak_alloc_mb") or {}
        alloc_s = " / ".join("–" if alloc.get(k) is None else f"{alloc[k]:.1f}"
                             for k in ["domaug"] + [k for k, _ in peers]) if alloc else ""
        lines.append(f"| {r['case']} | {r['size']} | {ours} | {peer_ms} | {ratio} | {mean_ratio} | "
                     f"{'' if mem is None else f'{mem:.1f}×'}{'' if mem_min is None else f' (min {mem_min:.1f}×)'} | "
                     f"{alloc_s} | {note} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", action="append", choices=SUITES, help="suite(s) to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    suites = args.suite or SUITES
    peers = _sequential_peers()
    import numpy as np

    import domaug

    results = []
    for suite in suites:
        module = importlib.import_module(f"cases.{suite}")
        for case in module.cases(quick=args.quick):
            r = run_case(case, rounds=15 if args.quick else 61)
            r["suite"] = suite
            results.append(r)
            t = r["timings"].get("domaug", {})
            ratios = ", ".join(f"{k} {v:.2f}" for k, v in r["ratios"].items())
            print(f"{suite:10s} {case.name:24s} {case.size:22s} {t.get('median_ms', float('nan')):9.2f} ms  {ratios}"
                  + (f"  errors: {r['errors']}" if r["errors"] else ""), flush=True)
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(), "numpy": np.__version__, "domaug": domaug.__version__,
        "peers": peers, "peak_rss_mb": peak_rss_mb(), "results": results,
    }
    write_per_suite(report, Path(args.out), suites, "-quick" if args.quick else "")


def write_per_suite(report: dict, out: Path, suites: list[str], suffix: str = "") -> None:
    """One ``<suite><suffix>.json`` and ``.md`` per suite (same header: one run, one machine)."""
    out.mkdir(parents=True, exist_ok=True)
    for suite in suites:
        part = dict(report, results=[r for r in report["results"] if r.get("suite") == suite])
        (out / f"{suite}{suffix}.json").write_text(json.dumps(part, indent=2))
        (out / f"{suite}{suffix}.md").write_text(_markdown(part))
        print(f"wrote {out / (suite + suffix + '.json')} and {out / (suite + suffix + '.md')}")


if __name__ == "__main__":
    main()
