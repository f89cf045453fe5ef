"""Medical transforms against TorchIO 1.2.1 and MONAI 1.6.1 (CPU torch, one thread).

Inputs: a 128³ float32 MR-like volume (a head phantom: skull shell, brain, ventricles and
a lesion-like blob, plus fractal tissue texture, 1 mm isotropic) and a 256² slice of the
same phantom (with a 256² CT slice in HU for LowDoseCT). Peers get the same data,
converted once outside the timed call (TorchIO: ``ScalarImage`` of a (1, D, H, W) tensor;
MONAI: a (1, D, H, W) torch tensor). Parameters are matched where the models overlap
(same maximum displacement, same polynomial order, same noise level, …); where they do
not, the note says what differs.

Every registered ``medical.*`` transform gets a case (``domaug.list_transforms("medical")``),
so transforms added later are picked up with no peer. On top of the timings, the 3-D
elastic cases measure memory: each implementation runs in a fresh subprocess (one warm-up
call on the same volume, then freed heap trimmed) and the peak extra RSS of the second call is reported as a multiple of
the volume's size; 256³ elastic is reported the same way (seconds and peak RSS).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from harness import Case

# peers live in their own module (the memory script reaches them as m._peer_factories / m._prepare)
from cases.medical_peers import ELASTIC_MM, MONAI_SIGMA, _peer_factories, _prepare, _tio

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- inputs

def phantom(n: int, *, ndim: int = 3, seed: int = 0) -> np.ndarray:
    """MR-like (T1-ish magnitude) head phantom, float32, background 0, brain ~ 400–600."""
    c = (n - 1) / 2.0
    axes = [((np.arange(n, dtype=np.float32) - c) / (n / 2.0)) for _ in range(ndim)]
    grids = np.meshgrid(*axes, indexing="ij", sparse=True)
    scale = (0.78, 0.88, 0.72)[-ndim:]
    r = np.sqrt(sum((g / s) ** 2 for g, s in zip(grids, scale)))
    vol = np.where(r < 1.0, 300.0, 0.0).astype(np.float32)  # scalp / skull rim
    vol[r < 0.90] = 120.0  # skull (dark in T1)
    vol[r < 0.84] = 520.0  # brain
    vent = np.sqrt(sum((g / s) ** 2 for g, s in zip(grids, (0.25, 0.12, 0.2)[-ndim:])))
    vol[vent < 1.0] = 160.0  # ventricles (CSF)
    blob = np.sqrt(sum(((g - o) / 0.08) ** 2 for g, o in zip(grids, (0.1, 0.3, -0.25)[-ndim:])))
    vol[blob < 1.0] = 700.0
    try:
        from domaug.ops.fields import fractal_noise

        tex = fractal_noise((n,) * ndim, seed=seed, scale_px=n / 10, octaves=3)
    except Exception:  # field builder missing: smooth random texture
        from scipy import ndimage

        tex = ndimage.gaussian_filter(np.random.default_rng(seed).standard_normal((n,) * ndim), 2.0)
        tex /= tex.std()
    vol += np.where(vol > 0, 40.0 * tex, 0.0).astype(np.float32)
    return np.ascontiguousarray(np.clip(vol, 0, None), dtype=np.float32)


def ct_slice(n: int) -> np.ndarray:
    """A CT slice in HU (int16): air, fat rim, soft tissue, bone ring."""
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot((yy - n / 2) / (0.45 * n), (xx - n / 2) / (0.38 * n))
    hu = np.full((n, n), -1000.0)
    hu[r < 1.0] = -100.0
    hu[r < 0.9] = 40.0
    hu[(r > 0.55) & (r < 0.62)] = 700.0
    hu += np.random.default_rng(1).normal(0, 8, (n, n)) * (r < 1.0)
    return hu.astype(np.int16)


#: domaug parameters chosen to match the peers' work (others run with their defaults).
OURS = {
    "ElasticDeformation": {"max_displacement_mm": ELASTIC_MM, "n_control": 7},
    "RicianNoise": {"sigma": 0.03 * 700},
    "BiasField": {"coefficients": 0.3, "order": 3},
    "Motion": {"degrees": 5.0, "translation_mm": 5.0, "num_transforms": 2},
    "Ghosting": {"num_ghosts": (4, 10), "ghost_ratio": (0.05, 0.1)},
    "GibbsRinging": {"keep_fraction": 0.5, "axes": "all"},
    "Spike": {"num_spikes": 1, "intensity": (0.1, 0.4)},
}

#: on 2-D slices: a single axial slice is refused by SliceThickness, a coronal reformat is not
OURS_2D = {"SliceThickness": {"axis": "vertical"}}

NOTES = {
    "ElasticDeformation": "same 7.5 mm maximum: TorchIO 7 control points (SimpleITK B-spline), domaug 7 "
                          "(separable B-spline); MONAI 3-D = dense U(−1,1) field Gaussian-smoothed (σ 8 vox) "
                          "scaled to a 7.5 vox maximum, 2-D = control grid",
    "RicianNoise": "σ = 21 (3 % of the brain max) for both; TorchIO has no Rician noise",
    "BiasField": "order 3, coefficients ±0.3 (MONAI: Legendre, 0–0.3)",
    "Motion": "5°, 5 mm, 2 movements; MONAI has none",
    "Ghosting": "4–10 ghosts; TorchIO intensity 0.5–0.95, domaug ghost_ratio 0.05–0.1 (same cost); MONAI has none",
    "GibbsRinging": "k-space truncated to 50 % along every axis (MONAI GibbsNoise α=0.5, radial)",
    "Spike": "one spike (TorchIO num_spikes=(1, 1): a bare 1 draws 0–1 spikes); TorchIO adds "
             "intensity×max|k|, MONAI sets log|k| at one point",
    "Blur": "Gaussian FWHM 0.5–2 mm (σ 0.2–0.85)",
    "SliceThickness": "TorchIO RandomAnisotropy = nearest down ×3–6 + linear up, no slice profile; "
                      "2-D: domaug blurs a coronal reformat (axis='vertical')",
    "LowDoseCT": "on a CT input in HU; no peer",
}

#: Targets from issue 8 (ratio domaug / peer), by case.
TARGETS = {("ElasticDeformation", "torchio"): 0.1, ("ElasticDeformation", "monai"): 0.1,
           ("RicianNoise", "monai"): 0.5, ("BiasField", "monai"): 1.0, ("Motion", "torchio"): 0.5,
           ("Ghosting", "torchio"): 1.0, ("GibbsRinging", "monai"): 1.0}


def _sample(name: str, image: np.ndarray, ndim: int) -> dict:
    sample = {"image": image, "meta": {"spacing": [1.0] * ndim}}
    if name == "LowDoseCT":
        sample = {"image": ct_slice(image.shape[-1]) if ndim == 2 else
                  (image - 1000.0).astype(np.float32), "meta": {"spacing": [1.0] * ndim, "modality": "CT"}}
    elif name == "SyntheticLesion":
        sample["mask"] = (image > 450).astype(np.uint8)
    elif name == "WindowedContrast":
        sample["image"] = (image - 1000.0).astype(np.float32)
    return sample


# --------------------------------------------------------------------------- memory (fresh subprocess)

MEMORY_SCRIPT = r"""
import json, os, sys, time
for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
          "DOMAUG_NUM_THREADS"):
    os.environ[v] = "1"
import numpy as np
impl, path = sys.argv[1], sys.argv[2]
def status(key):  # VmRSS / VmHWM of this process, MiB (per address space: not inherited over exec,
    with open("/proc/self/status") as f:  # unlike getrusage's ru_maxrss, which keeps the forking parent's peak)
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
def reset_peak():  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
sys.path.insert(0, sys.argv[3])
from cases import medical as m
if impl == "domaug":
    import domaug
    t = domaug.get_transform("medical.ElasticDeformation", **m.OURS["ElasticDeformation"])
    prep = lambda v: {"image": v, "meta": {"spacing": [1.0, 1.0, 1.0]}}
    call = lambda x: t(rng=1, **x)
else:
    import torch
    torch.set_num_threads(1)
    t = m._peer_factories(3)["ElasticDeformation"][impl]()
    prep = lambda v: m._prepare(impl, v)
    call = t
vol = np.load(path)
x = prep(vol)
call(x)  # warm-up on the same volume: lazy imports (OpenCV, FFT plans, torch kernels), thread pools
import ctypes, gc
gc.collect()
try:  # hand freed heap pages back, so that VmRSS before the call is live data only
    ctypes.CDLL("libc.so.6").malloc_trim(0)
except OSError:
    pass
exact = reset_peak()
before, before_hwm = status("VmRSS"), status("VmHWM")
t0 = time.perf_counter()
call(x)
seconds = time.perf_counter() - t0
peak = status("VmHWM")
print(json.dumps({"seconds": seconds, "rss_before_mb": before, "hwm_before_mb": before_hwm, "peak_reset": exact,
                  "peak_rss_mb": peak, "extra_mb": peak - before, "volume_mb": vol.nbytes / 2**20}))
"""


def elastic_memory(n: int, impls: list[str], timeout: float = 600.0) -> dict:
    """Seconds and peak extra RSS of one 3-D elastic call per implementation, fresh processes."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vol.npy"
        np.save(path, phantom(n))
        for impl in impls:
            try:
                res = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, impl, str(path), str(HERE.parent)],
                                     capture_output=True, text=True, timeout=timeout)
                if res.returncode != 0:
                    tail = (res.stderr.strip().splitlines() or ["?"])[-1][:160]
                    out[impl] = {"error": f"exit {res.returncode}: {tail}"}
                    continue
                r = json.loads(res.stdout.strip().splitlines()[-1])
                r["extra_per_volume"] = r["extra_mb"] / r["volume_mb"]
                out[impl] = r
            except Exception as exc:  # timeout, no JSON, …
                out[impl] = {"error": f"{type(exc).__name__}: {exc}"[:160]}
    return out


def _memory_note(mem: dict) -> str:
    parts = []
    for impl, r in mem.items():
        if "error" in r:
            parts.append(f"{impl} {r['error']}")
        else:
            parts.append(f"{impl} {r['seconds']:.2f} s, +{r['extra_mb']:.0f} MiB = {r['extra_per_volume']:.1f}× vol "
                         f"(peak RSS {r['peak_rss_mb']:.0f} MiB)")
    return "fresh process, 2nd call: " + "; ".join(parts)


# --------------------------------------------------------------------------- cases

def _domaug_call(name: str, sample: dict):
    import domaug

    params = {**OURS.get(name, {}), **(OURS_2D.get(name, {}) if sample["image"].ndim == 2 else {})}
    t = domaug.get_transform(f"medical.{name}", **params)
    rng = np.random.default_rng(0)
    return lambda: t(rng=rng, **sample)


def _cases_for(image: np.ndarray, ndim: int, size: str) -> list[Case]:
    import domaug

    out = []
    factories = _peer_factories(ndim)
    label = size
    for full in domaug.list_transforms("medical"):
        name, size = full.split(".", 1)[1], label
        sample = _sample(name, image, ndim)
        note = NOTES.get(name, "")
        if sample["image"].dtype != image.dtype:
            size = size.split(" ")[0] + f" {sample['image'].dtype}"
        try:
            ours = _domaug_call(name, sample)
            ours()  # construction / input errors become the case's error, not a crash
        except Exception as exc:
            msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            out.append(Case(name, size, _raiser(msg), {}, array=sample["image"], note=note))
            continue
        peers = {}
        for peer, make in factories.get(name, {}).items():
            try:
                t, x = make(), _prepare(peer, sample["image"])
                peers[peer] = (lambda t=t, x=x: t(x))
            except Exception as exc:
                peers[peer] = _raiser(f"{type(exc).__name__}: {exc}"[:160])
        targets = [f"≤{TARGETS[(name, p)]:g} vs {p}" for p in peers if (name, p) in TARGETS]
        if targets and ndim == 3:
            note = (note + "; target " + ", ".join(targets)).strip("; ")
        out.append(Case(name, size, ours, peers, array=sample["image"], note=note))
    return out


def _extra_volume_cases(vol: np.ndarray) -> list[Case]:
    """Elastic with a label map (TorchIO: a LabelMap in the same Subject, nearest), and the
    displacement field alone: our control grid vs a dense Gaussian-smoothed field (what
    MONAI's Rand3DElastic and Simard-style elastic pay for)."""
    out = []
    mask = (vol > 450).astype(np.uint8)
    try:
        ours = _domaug_call("ElasticDeformation", {"image": vol, "mask": mask, "meta": {"spacing": [1.0] * 3}})
        ours()
    except Exception as exc:
        ours = _raiser(f"{type(exc).__name__}: {exc}"[:160])
    peers = {}
    tio = _tio()
    if tio is not None:
        import torch

        subject = tio.Subject(image=tio.ScalarImage(tensor=torch.from_numpy(vol[None].copy())),
                              label=tio.LabelMap(tensor=torch.from_numpy(mask[None].copy())))
        t = tio.RandomElasticDeformation(num_control_points=7, max_displacement=ELASTIC_MM)
        peers["torchio"] = lambda: t(subject)
    out.append(Case("ElasticDeformation+mask", "128³ float32 + uint8", ours, peers, array=vol,
                    note="image linear + labels nearest, one field"))
    try:
        from scipy import ndimage

        from domaug.ops import elastic

        shape = vol.shape
        ours = (lambda: elastic.control_grid_field(shape, seed=1, n_control=7, max_disp_px_per_axis=ELASTIC_MM))
        ours()

        def dense():
            rng = np.random.default_rng(1)
            return np.stack([ndimage.gaussian_filter(rng.uniform(-1, 1, shape).astype(np.float32), MONAI_SIGMA,
                                                     truncate=3.0) for _ in shape])

        out.append(Case("elastic field only", "3×128³ float32", ours, {"dense-gaussian-ref": dense},
                        array=np.zeros((3,) + shape, np.float32),
                        note="control grid (7³, cubic B-spline) vs dense U(−1,1) field Gaussian-smoothed σ=8 "
                             "(scipy; the cost model of MONAI Rand3DElastic)"))
    except Exception as exc:
        print(f"medical: skipping elastic field only: {exc}")
    return out


def _raiser(msg: str):
    def fail():
        raise RuntimeError(msg)

    return fail


def cases(quick: bool = False) -> list[Case]:
    import os

    os.environ.setdefault("DOMAUG_NUM_THREADS", "1")  # single thread, like the peers
    out = []
    vol = phantom(128)
    vol_cases = _cases_for(vol, 3, "128³ float32")
    mem = elastic_memory(128, ["domaug", "torchio", "monai"])
    for c in vol_cases:
        if c.name == "ElasticDeformation":
            ratio = mem.get("domaug", {}).get("extra_per_volume")
            verdict = "" if ratio is None else (" (met)" if ratio < 10 else " (MISSED)")
            c.note = (c.note + f"; memory target < 10× vol{verdict}. " + _memory_note(mem)).strip()
            c.extra = {"memory_128": mem}
    out += vol_cases
    out += _extra_volume_cases(vol)
    out += _cases_for(phantom(256, ndim=2), 2, "256² float32")
    # 256³ elastic: one call per implementation in a fresh process (seconds + peak RSS).
    # MONAI's dense field needs ~8× its 128³ peak here (~20 GiB): not run, extrapolated.
    big = elastic_memory(256, ["domaug", "torchio"], timeout=900)
    big_vol = phantom(256)
    ours = _domaug_call("ElasticDeformation", _sample("ElasticDeformation", big_vol, 3))
    monai_note = ""
    if "extra_mb" in mem.get("monai", {}):
        monai_note = (f"; monai not run (its dense field scales with the volume: ~8 × {mem['monai']['extra_mb']:.0f} "
                      f"MiB ≈ {8 * mem['monai']['extra_mb'] / 1024:.0f} GiB extra expected)")
    out.append(Case("ElasticDeformation-256³", "256³ float32", ours, {}, array=big_vol,
                    note="domaug timed here; peers once in a fresh process: " + _memory_note(big) + monai_note))
    out[-1].extra = {"memory_256": big}
    return out
