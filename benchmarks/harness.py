"""Timing harness: interleaved rounds, medians, percentiles, the memcpy floor, peak RSS.

Every case times domaug and each peer on the same input in the same process, one call
of each per round (interleaved), so that machine noise hits all of them alike.
"""

from __future__ import annotations

import gc
import resource
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Case:
    """One benchmark: a name, an input, our call and the peers' calls on the same input."""

    name: str
    size: str
    domaug: Callable[[], Any]
    peers: dict[str, Callable[[], Any]] = field(default_factory=dict)
    array: np.ndarray | None = None  # for the memcpy floor
    note: str = ""
    extra: dict = field(default_factory=dict)  # extra measurements copied into the result (e.g. memory)


def _copy_floor(array: np.ndarray) -> Callable[[], None]:
    dst = np.empty_like(array)
    return lambda: np.copyto(dst, array)


def _stats(samples: list[float]) -> dict:
    a = np.asarray(samples) * 1000.0
    return {
        "median_ms": float(np.median(a)),
        "min_ms": float(np.min(a)),  # the least disturbed call (a busy machine only ever adds time)
        "mean_ms": float(np.mean(a)),  # throughput over many random draws (a training loop's total)
        "p10_ms": float(np.percentile(a, 10)),
        "p90_ms": float(np.percentile(a, 90)),
        "per_s": float(1000.0 / np.median(a)) if np.median(a) > 0 else None,
    }


#: A sample of a fast call times this many seconds of back-to-back calls (timer and
#: scheduler jitter are microseconds: a 30 µs call timed alone is mostly noise).
SAMPLE_S = 0.002


def run_case(case: Case, rounds: int = 15, warmup: int = 2, budget_s: float = 20.0) -> dict:
    """Time a case; fewer rounds when a single call is slow (keeps a suite within budget).

    Each round times every runner once, interleaved; a runner faster than
    :data:`SAMPLE_S` is called ``inner`` times back to back per sample and the sample
    is the mean of those calls (``inner`` per runner is recorded in the result).
    """
    runners: dict[str, Callable[[], Any]] = {"domaug": case.domaug, **case.peers}
    if case.array is not None:
        runners["memcpy"] = _copy_floor(case.array)
    errors: dict[str, str] = {}
    for name, fn in list(runners.items()):
        try:
            for _ in range(warmup):
                fn()
        except Exception as exc:  # a peer that cannot do this input is a result, not a crash
            errors[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            runners.pop(name)
    probe = {}
    for name, fn in runners.items():
        t0 = time.perf_counter()
        fn()
        probe[name] = time.perf_counter() - t0
    inner = {name: max(1, min(1000, int(SAMPLE_S / max(t, 1e-7)))) for name, t in probe.items()}
    per_round = sum(probe[n] * inner[n] for n in runners) or 1e-6
    rounds = max(3, min(rounds, int(budget_s / per_round)))
    samples: dict[str, list[float]] = {name: [] for name in runners}
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in runners.items():
                k = inner[name]
                t0 = time.perf_counter()
                for _ in range(k):
                    fn()
                samples[name].append((time.perf_counter() - t0) / k)
    finally:
        gc.enable()
    result = {"case": case.name, "size": case.size, "rounds": rounds, "inner": inner, "note": case.note,
              "timings": {n: _stats(s) for n, s in samples.items()}, "errors": errors,
              "peak_alloc_mb": {n: peak_alloc_mb(fn) for n, fn in runners.items() if n != "memcpy"}}
    ours = result["timings"].get("domaug", {}).get("median_ms")
    if case.extra:
        result["extra"] = case.extra
    result["ratios"] = {}
    if ours:
        for name, t in result["timings"].items():
            if name != "domaug" and t["median_ms"] > 0:
                key = "vs_memcpy" if name == "memcpy" else f"vs_{name}"
                result["ratios"][key] = ours / t["median_ms"]
    ours_min, floor_min = (result["timings"].get(n, {}).get("min_ms") for n in ("domaug", "memcpy"))
    # fastest call / fastest memcpy of the same run: what a quiet machine would show
    result["min_ratios"] = {"vs_memcpy": ours_min / floor_min} if ours_min and floor_min else {}
    ours_mean = result["timings"].get("domaug", {}).get("mean_ms")
    # the ratio of mean times: what a training loop pays over many draws (a peer whose cost
    # jumps with the drawn parameters has a median that lands on either side of the jump)
    result["mean_ratios"] = {f"vs_{n}": ours_mean / t["mean_ms"] for n, t in result["timings"].items()
                             if ours_mean and n not in ("domaug", "memcpy") and t["mean_ms"] > 0}
    return result


def peak_alloc_mb(fn: Callable[[], Any]) -> float | None:
    """Peak memory allocated during one call, in MiB (tracemalloc: Python and numpy buffers).

    Memory that a library allocates behind numpy's back (OpenCV temporaries, torch
    tensors) is not seen; the process-wide peak RSS is in the report header.
    """
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    except Exception:
        return None
    finally:
        tracemalloc.stop()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
