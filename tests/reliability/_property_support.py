"""Shared machinery of the hypothesis property tests over every registered transform:
inputs drawn from each transform's domain, constructor arguments drawn inside its
defaults, and the checks every output must pass (see ``test_transform_properties``)."""

from __future__ import annotations

import collections
import copy
import inspect
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import domaug
from domaug.dtypes import value_range
from domaug.errors import ParameterError, TargetError, UnsupportedInputError
from domaug.targets import kind_of, layout_of, valid_of
from domaug.transform import SpatialTransform

NAMES = domaug.list_transforms()
REFUSALS = (UnsupportedInputError, TargetError, ParameterError)
DTYPES = (np.uint8, np.uint16, np.int16, np.float32)

#: name → reason: bugs found by this file in rooms whose owners were still working.
#: They stay visible as xfail (strict=False) until the owner fixes them.
KNOWN_BUGS: dict[str, str] = {}

#: (name, input kind) → Counter of outcomes; written to $DOMAUG_RELIABILITY_REPORT at the end.
OUTCOMES: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

BAND_NAMES = {
    1: ["gray"],
    3: ["red", "green", "blue"],
    4: ["blue", "green", "red", "nir"],
    5: ["blue", "green", "red", "nir", "rededge"],
    12: ["coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
         "nir08", "watervapour", "swir1", "swir2"],
}


# -- drawing inputs ---------------------------------------------------------------------
def _fill(rng: np.random.Generator, shape, lo: float, hi: float, content: str) -> np.ndarray:
    if content == "constant":
        return np.full(shape, rng.uniform(lo, hi))
    if content == "extreme":
        return np.where(rng.random(shape) < 0.5, lo, hi).astype(np.float64)
    if content == "smooth":
        grids = np.meshgrid(*[np.linspace(0, 1, s) for s in shape], indexing="ij")
        ramp = sum(grids) / max(len(grids), 1)
        return lo + (hi - lo) * np.clip(0.8 * ramp + 0.1 + rng.normal(0, 0.03, shape), 0, 1)
    return rng.uniform(lo, hi, shape)


def _domain_layout(data, namespace: str):
    """(spatial shape, channels or None, spatial_ndim) for a namespace."""
    side = st.integers(1, 64)
    small = st.sampled_from([1, 2, 3, 5, 7])
    if namespace == "medical":
        if data.draw(st.booleans(), label="volume"):
            d = data.draw(st.integers(1, 8), label="depth")
            return (d, data.draw(st.integers(1, 32)), data.draw(st.integers(1, 32))), None, 3
        return (data.draw(st.one_of(small, side)), data.draw(st.one_of(small, side))), None, 2
    h = data.draw(st.one_of(small, side), label="height")
    w = data.draw(st.one_of(small, side), label="width")
    if namespace == "driving":
        return (h, w), 3, 2
    if namespace == "satellite":
        return (h, w), data.draw(st.sampled_from([1, 3, 4, 5, 12]), label="bands"), 2
    if namespace == "agriculture":
        return (h, w), data.draw(st.sampled_from([3, 4, 5]), label="bands"), 2
    kind = data.draw(st.sampled_from(["gray", "bands", "volume"]), label="layout")
    if kind == "gray":
        return (h, w), None, 2
    if kind == "volume":
        return (data.draw(st.integers(1, 6)), min(h, 24), min(w, 24)), None, 3
    return (h, w), data.draw(st.sampled_from([1, 3, 4, 5])), 2


def draw_sample(data, name: str, forced_nodata: str | None = None) -> tuple[str, dict]:
    """(input kind, sample); ``forced_nodata`` ("nan", "-9999", "int-lo", "int-hi") forces a
    nodata border with an explicit ``valid`` target (float32 for the first two)."""
    namespace = name.split(".", 1)[0]
    spatial, channels, sndim = _domain_layout(data, namespace)
    if forced_nodata in ("nan", "-9999"):
        dtype = np.dtype(np.float32)
    elif forced_nodata:
        dtype = np.dtype(data.draw(st.sampled_from(DTYPES[:3]), label="dtype"))
    else:
        dtype = np.dtype(data.draw(st.sampled_from(DTYPES), label="dtype"))
    content = data.draw(st.sampled_from(["noise", "smooth", "constant", "extreme"]), label="content")
    seed = data.draw(st.integers(0, 2**32 - 1), label="data seed")
    rng = np.random.default_rng(seed)
    meta: dict = {}
    if sndim == 3:
        meta["spatial_ndim"] = 3
    if namespace == "medical":
        modality = data.draw(st.sampled_from(["CT", "MR", None]), label="modality")
        if modality:
            meta["modality"] = modality
        meta["spacing"] = [float(s) for s in ([3.0, 0.8, 0.8] if sndim == 3 else [0.8, 0.8])]
    if channels is not None and namespace in ("satellite", "agriculture"):
        meta["band_names"] = list(BAND_NAMES[channels])
        meta["transform"] = [500000.0, 10.0, 0.0, 4200000.0, 0.0, -10.0]
        meta["crs"] = "EPSG:32633"
    if dtype == np.uint16 and data.draw(st.booleans(), label="12-bit"):
        meta["bit_depth"] = 12
    lo, hi = value_range(dtype, meta)
    if dtype.kind == "f":
        lo, hi = (-1024.0, 3071.0) if meta.get("modality") == "CT" else (0.0, 1.0)
    elif dtype == np.int16 and namespace == "medical":
        lo, hi = -1024.0, 3071.0
    shape = spatial + ((channels,) if channels is not None else ())
    image = _fill(rng, shape, lo, hi, content)
    image = (np.rint(image) if dtype.kind in "ui" else image).astype(dtype)

    sample: dict = {"image": image}
    nodata_kind = "valid+meta" if forced_nodata else data.draw(
        st.sampled_from(["none", "none", "valid+meta", "meta-only"]), label="nodata")
    if nodata_kind != "none" and image.size > 1:
        if forced_nodata:
            nodata = {"nan": float("nan"), "-9999": -9999.0}.get(
                forced_nodata, float(lo) if forced_nodata == "int-lo" else float(value_range(dtype, meta)[1]))
        elif dtype.kind == "f":
            nodata = data.draw(st.sampled_from([0.0, -9999.0, float("nan")]), label="nodata value")
        else:
            nodata = float(lo) if data.draw(st.booleans(), label="nodata at low end") else float(hi)
        valid = np.ones(spatial, bool)
        edge = max(1, spatial[-1] // 4)
        valid[..., :edge] = False
        if valid.any():
            img = image.copy()
            cast = np.asarray(nodata).astype(dtype) if not np.isnan(nodata) else nodata
            # valid pixels start off the nodata value (a transform can only keep that)
            if not np.isnan(nodata):
                step = (1 if nodata < value_range(dtype, meta)[1] else -1) if dtype.kind in "ui" else np.float32(1e-3)
                img[img == cast] = np.asarray(float(nodata) + float(step)).astype(dtype)
            img[~valid] = cast
            sample["image"] = image = img
            meta["nodata"] = nodata
            if nodata_kind == "valid+meta":
                sample["valid"] = valid
    if data.draw(st.booleans(), label="mask"):
        labels = data.draw(st.lists(st.sampled_from([0, 1, 2, 3, 7, 255]), min_size=1, max_size=3,
                                    unique=True), label="labels")
        mdtype = data.draw(st.sampled_from([np.uint8, np.int32]), label="mask dtype")
        sample["mask"] = rng.choice(np.array(labels), size=spatial).astype(mdtype)
    if namespace == "driving" and data.draw(st.booleans(), label="depth"):
        sample["depth"] = rng.uniform(1.0, 1000.0, spatial).astype(np.float32)
    if sndim == 2:
        h, w = spatial
        if data.draw(st.booleans(), label="boxes"):
            n = data.draw(st.integers(0, 4), label="n boxes")
            x0, y0 = rng.uniform(0, w - 0.5, n), rng.uniform(0, h - 0.5, n)
            x1 = np.minimum(x0 + rng.uniform(0.5, w, n), w)
            y1 = np.minimum(y0 + rng.uniform(0.5, h, n), h)
            sample["bboxes"] = np.stack([x0, y0, x1, y1, rng.integers(0, 5, n)], -1).astype(np.float64)
        if data.draw(st.booleans(), label="keypoints"):
            n = data.draw(st.integers(0, 4), label="n keypoints")
            sample["keypoints"] = np.stack([rng.uniform(0, w, n), rng.uniform(0, h, n)], -1)
    if meta:
        sample["meta"] = meta
    nd = "" if "nodata" not in meta else ("-nodataNaN" if np.isnan(meta["nodata"]) else "-nodata")
    lay = f"vol{spatial[0]}" if sndim == 3 else ("gray" if channels is None else f"{channels}b")
    small = "-tiny" if min(spatial[-2:]) <= 2 else ""
    return f"{lay}-{dtype.name}{nd}{small}", sample


# -- checks -----------------------------------------------------------------------------
def _equal(a: dict, b: dict, what: str) -> None:
    assert set(a) == set(b), what
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype, f"{what}: {key} dtype"
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{what}: {key}")
        else:
            assert a[key] == b[key] or json.dumps(a[key], sort_keys=True, default=str) == json.dumps(
                b[key], sort_keys=True, default=str), f"{what}: {key}"


def _allowed_extra_labels(t) -> set:
    extra = set()
    for attr in ("mask_fill", "lesion_label"):
        value = getattr(t, attr, None)
        if value is not None:
            extra.add(int(value))
    return extra


def check_output(name: str, t, sample: dict, out: dict) -> None:
    image, new = sample["image"], out["image"]
    meta = sample.get("meta") or {}
    pixel_level = not isinstance(t, SpatialTransform)
    assert new.dtype == image.dtype, f"{name} changed dtype {image.dtype} → {new.dtype}"
    assert new.ndim == image.ndim, f"{name} changed ndim"
    lay = layout_of(sample, prefer_volume=t.prefer_volume)
    new_lay = layout_of({**out, "image": new}, prefer_volume=t.prefer_volume)
    assert new_lay.n_channels == lay.n_channels, f"{name} changed the band count"
    if pixel_level:
        assert new.shape == image.shape, f"{name} changed the shape {image.shape} → {new.shape}"
    assert min(new.shape) >= 1, f"{name} produced an empty image {new.shape}"
    out_valid = out.get("valid") if isinstance(out.get("valid"), np.ndarray) else None
    for key, value in out.items():
        if key in ("image", "applied", "meta") or not isinstance(value, np.ndarray):
            continue
        kind = kind_of(key)
        if kind in ("mask", "field", "valid"):
            assert value.shape == new_lay.spatial_shape, \
                f"{name}: {key} shape {value.shape} != image grid {new_lay.spatial_shape}"
        if kind == "mask" and key in sample:
            new_labels = set(np.unique(value).tolist()) - set(np.unique(sample[key]).tolist())
            assert new_labels <= _allowed_extra_labels(t), f"{name}: new labels {new_labels} in {key}"
        if kind == "field":
            assert np.isfinite(value).all(), f"{name}: non-finite {key}"
        if kind == "bboxes" and len(value):
            h, w = new_lay.spatial_shape[-2:]
            assert np.isfinite(value[:, :4]).all(), f"{name}: non-finite boxes"
            assert (value[:, [0, 2]] >= 0).all() and (value[:, [0, 2]] <= w).all(), f"{name}: box outside x"
            assert (value[:, [1, 3]] >= 0).all() and (value[:, [1, 3]] <= h).all(), f"{name}: box outside y"
            assert ((value[:, 2] > value[:, 0]) & (value[:, 3] > value[:, 1])).all(), f"{name}: degenerate box"
        if kind == "keypoints" and len(value):
            h, w = new_lay.spatial_shape[-2:]
            assert np.isfinite(value[:, :2]).all(), f"{name}: non-finite keypoints"
            assert ((value[:, 0] >= 0) & (value[:, 0] <= w) & (value[:, 1] >= 0) & (value[:, 1] <= h)).all(), \
                f"{name}: keypoint outside the image"
    # which output pixels are data
    if pixel_level:
        valid = valid_of(sample)
    else:
        valid = out_valid
        if valid is None and "nodata" in meta:
            valid = valid_of({**out, "image": new, "meta": meta})
    sel = (lambda a: a) if valid is None else (lambda a: a[valid])
    vals = sel(new)
    if new.dtype.kind == "f":
        assert np.isfinite(vals).all(), f"{name} produced non-finite values in valid pixels"
    lo, hi = value_range(new.dtype, meta)
    if vals.size:
        assert vals.min() >= lo and vals.max() <= hi, \
            f"{name}: values [{vals.min()}, {vals.max()}] outside [{lo}, {hi}]"
    nodata = meta.get("nodata")
    if pixel_level:
        inval = valid_of(sample)
        if inval is not None:
            np.testing.assert_array_equal(new[~inval], image[~inval], err_msg=f"{name} touched nodata pixels")
    if nodata is not None and valid is not None and not np.isnan(nodata) and vals.size:
        per_pixel = vals.reshape(len(vals), -1) if vals.ndim > 1 else vals.reshape(-1, 1)
        assert not (per_pixel == nodata).all(axis=-1).any(), f"{name}: a valid pixel took the nodata value"


def _snapshot(sample: dict) -> dict:
    return copy.deepcopy(sample)


EXAMPLES = int(os.environ.get("DOMAUG_PROPERTY_EXAMPLES", "25"))


def run_property(body, name: str, max_examples: int, known: dict) -> None:
    """Run ``body(name, data)`` under hypothesis; known bugs skip shrinking (CI time)."""
    phases = (Phase.explicit, Phase.reuse, Phase.generate) if name in known else tuple(Phase)
    test = settings(max_examples=max_examples, deadline=None, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])(given(data=st.data())(body))
    test(name)


def draw_params(data, cls) -> dict:
    """Random constructor arguments inside the documented defaults: a ``(low, high)`` default
    becomes a fixed value or a narrower pair drawn inside it; ``p`` is drawn too."""
    kwargs: dict = {}
    for pname, par in inspect.signature(cls.__init__).parameters.items():
        default = par.default
        if pname == "p" or not isinstance(default, (tuple, list)) or len(default) != 2:
            continue
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in default):
            continue
        lo, hi = default
        if not lo < hi:
            continue
        how = data.draw(st.sampled_from(["default", "fixed", "pair"]), label=f"{pname} draw")
        if how == "default":
            continue
        integer = all(isinstance(v, int) for v in default)
        value = st.integers(int(lo), int(hi)) if integer else st.floats(float(lo), float(hi), allow_nan=False)
        a = data.draw(value, label=pname)
        if how == "fixed":
            kwargs[pname] = a
        else:
            b = data.draw(value, label=f"{pname} 2")
            kwargs[pname] = (min(a, b), max(a, b))
    if data.draw(st.booleans(), label="random p"):
        kwargs["p"] = data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="p")
    return kwargs


def _param(name: str, known: dict | None = None):
    known = KNOWN_BUGS if known is None else known
    if name in known:
        return pytest.param(name, marks=pytest.mark.xfail(reason=known[name], strict=False))
    return name
