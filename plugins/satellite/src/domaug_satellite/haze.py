"""satellite.Haze: a spatially varying aerosol layer above a Rayleigh atmosphere."""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (
    Context,
    ParameterError,
    PixelTransform,
    block_rows,
    check_choice,
    check_number,
    check_range,
    draw_seed,
    row_blocks,
    sample_log_uniform,
    sample_uniform,
    spread,
    to_float,
)

from . import atmosphere, band_ops, bands, haze_koschmieder
from .coarse_fields import smooth_fractal

AIRLIGHT_MODES = ("auto", "bright", "dark_object")
INPUT_LEVELS = ("auto", "toa", "surface")
#: sun elevation drawn when neither the parameter nor meta gives it
DEFAULT_SUN_ELEVATION_DEG = (30.0, 65.0)


class Haze(PixelTransform):
    """Haze: Rayleigh and aerosol scattering add path radiance and take contrast, most in blue.

    Model (per band, :mod:`atmosphere`): Rayleigh optical depth τ_R(λ) (Bodhaine et al. 1999),
    aerosol τ_a(λ) = AOD550·(λ/550)^−α (Ångström), first-order path reflectance
    ρ_path = [τ_R·P_R(Θ) + ω·τ_a·P_a(Θ)]/(4μsμv) (Gordon & Wang 1994), direct + diffuse
    transmittances and spherical albedo S, and
    ``ρ_TOA = ρ_path + T↓/(1 − S·ρ_e)·[ρ·e^(−τ/μv) + ρ_e·t_d↑]`` (Tanré et al. 1981, 6S)
    with ρ_e the band's mean reflectance (the environment). AOD varies smoothly in space:
    ``AOD550·max(0, 1 + v·n(x))``, n a low-frequency fractal field. A top-of-atmosphere
    image (L1) already holds a Rayleigh atmosphere and a background aerosol: it is first
    brought to the surface through that atmosphere (the same formula inverted), then up
    through the hazy one, so Rayleigh is never counted twice and the change is aerosol.

    Parameters
    ----------
    aod_550 : float or (low, high)
        Aerosol optical depth at 550 nm, drawn log-uniformly (default 0.05–0.8: clear
        continental air to thick haze).
    angstrom : float or (low, high)
        Ångström exponent α of the aerosol (default 1.0–1.6; 1.3 continental, ≈0.3 dust/sea salt).
    sun_elevation_deg : float or (low, high)
        Default ``meta["sun_elevation_deg"]`` (e.g. a Landsat MTL), else 30–65°.
    view_zenith_deg : float or (low, high)
        Sensor view zenith (default 0, nadir).
    surface_pressure_hpa : float
        Scales τ_R (default 1013.25; ≈ 900 at 1 km altitude).
    variability : float
        Relative spatial variation v of the AOD (default 0.4).
    haze_size_m : float or (low, high)
        Size of haze patches (default 5–30 km; without a geotransform, half the raster).
    input_level : "auto", "toa" or "surface"
        What the pixels are: ``"surface"`` reflectance (L2 products) gets the whole
        atmosphere; ``"toa"`` (L1 products, photographs of the ground from above) is first
        corrected for ``background_aod_550``. ``"auto"``: surface when
        ``meta["processing_level"]`` starts with "L2" or ``meta["reflectance_level"]`` is
        "surface", else toa.
    background_aod_550 : float
        Aerosol optical depth already in a top-of-atmosphere image (default 0.08, a clear
        continental day).
    tau_550, zenith_deg, airlight : deprecated
        ``tau_550`` is ``aod_550``; ``zenith_deg`` a sun zenith; an explicit ``airlight``
        (``"bright"``, ``"dark_object"``, reflectances) selects the old Koschmieder model
        (:mod:`haze_koschmieder`).

    wavelengths_nm : list of float, optional
        Centre wavelength (nm) of each band; default from ``meta["wavelengths_nm"]`` or
        ``meta["band_names"]``. A raster whose band wavelengths are declared nowhere is refused.

    Targets: image (any band count; uint8, uint16, float reflectance via :func:`bands.reflectance_scaling`), valid (nodata kept). Window-consistent.
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, aod_550: float | Sequence[float] = (0.05, 0.8),
                 angstrom: float | Sequence[float] = (1.0, 1.6),
                 sun_elevation_deg: float | Sequence[float] | None = None,
                 view_zenith_deg: float | Sequence[float] = 0.0,
                 surface_pressure_hpa: float = atmosphere.SEA_LEVEL_HPA,
                 variability: float = 0.4,
                 haze_size_m: float | Sequence[float] = (5000.0, 30000.0),
                 tau_550: float | Sequence[float] | None = None,
                 zenith_deg: float | Sequence[float] | None = None,
                 airlight: str | float | Sequence[float] = "auto",
                 wavelengths_nm: Sequence[float] | None = None,
                 input_level: str = "auto",
                 background_aod_550: float = 0.08,
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.input_level = check_choice(input_level, "input_level", INPUT_LEVELS)
        self.background = check_number(background_aod_550, "background_aod_550", low=0, high=2)
        self.wavelengths = None if wavelengths_nm is None else [
            check_number(w, "wavelengths_nm", low=200, high=15000) for w in wavelengths_nm]
        if tau_550 is not None:
            _deprecated("tau_550", "aod_550")
            aod_550 = tau_550
        self.aod = check_range(aod_550, "aod_550", low=0, high=5)
        self.angstrom = check_range(angstrom, "angstrom", low=-1, high=5)
        self.elevation = None if sun_elevation_deg is None else check_range(
            sun_elevation_deg, "sun_elevation_deg", low=5, high=90)
        if zenith_deg is not None:
            _deprecated("zenith_deg", "sun_elevation_deg (= 90 − zenith)")
            z = check_range(zenith_deg, "zenith_deg", low=0, high=80)
            self.elevation = (90.0 - z[1], 90.0 - z[0])
        self.view = check_range(view_zenith_deg, "view_zenith_deg", low=0, high=60)
        self.pressure = check_number(surface_pressure_hpa, "surface_pressure_hpa", low=300, high=1100)
        self.variability = check_number(variability, "variability", low=0, high=2)
        self.size = check_range(haze_size_m, "haze_size_m", low=0, low_inclusive=False)
        if isinstance(airlight, str):
            if airlight not in AIRLIGHT_MODES:
                raise ParameterError(
                    f"airlight must be one of {AIRLIGHT_MODES}, a reflectance or a list per band, got {airlight!r}")
        else:
            for v in ([airlight] if np.isscalar(airlight) else list(airlight)):
                check_number(v, "airlight", low=0, high=2)
        if not (isinstance(airlight, str) and airlight == "auto"):
            _deprecated("airlight", "the Rayleigh + aerosol path radiance (leave airlight='auto')")
        self.airlight = airlight

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())
        n = bands.n_bands(sample)
        if self.wavelengths is not None and len(self.wavelengths) != n:
            raise ParameterError(f"wavelengths_nm has {len(self.wavelengths)} entries but the image has {n} bands")
        self._wavelengths(sample)
        if not isinstance(self.airlight, str) and not np.isscalar(self.airlight) and len(self.airlight) != n:
            raise ParameterError(f"airlight has {len(self.airlight)} entries but the image has {n} bands")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        meta = sample.get("meta") or {}
        lo, hi = self.aod
        aod = sample_log_uniform(rng, self.aod) if lo > 0 else sample_uniform(rng, self.aod)
        alpha = sample_uniform(rng, self.angstrom)
        elev_range = self.elevation or (
            (float(meta["sun_elevation_deg"]),) * 2 if meta.get("sun_elevation_deg") is not None
            else DEFAULT_SUN_ELEVATION_DEG)
        sun_zenith = 90.0 - sample_uniform(rng, elev_range)
        view = sample_uniform(rng, self.view)
        size_m = sample_uniform(rng, self.size)
        wl = self._wavelengths(sample)
        pixel = bands.pixel_size_m(meta)
        _, full = bands.window_of(sample)
        scale_px = max(2.0, size_m / pixel if pixel else 0.5 * max(full))
        common = {"seed": draw_seed(rng), "variability": self.variability, "scale_px": scale_px,
                  "wavelengths_nm": wl, "angstrom": alpha}
        if not (isinstance(self.airlight, str) and self.airlight == "auto"):  # deprecated model
            return {**common, "tau_550": aod, "zenith_deg": sun_zenith,
                    "airlight": haze_koschmieder.airlight_dn(sample, self.airlight, wl, alpha, sun_zenith)}
        level = self.input_level if self.input_level != "auto" else _input_level(meta)
        background = self.background if level == "toa" else 0.0
        geometry = dict(angstrom=alpha, sun_zenith_deg=sun_zenith, view_zenith_deg=view, pressure_hpa=self.pressure)
        return {**common, "model": "rayleigh_aerosol", "aod_550": aod, "sun_zenith_deg": sun_zenith,
                "view_zenith_deg": view, "surface_pressure_hpa": self.pressure, "input_level": level,
                "background_aod_550": background,
                **_band_terms(sample, wl, aod, geometry, level == "toa", background)}

    def _wavelengths(self, sample: Mapping[str, Any]) -> list[float]:
        if self.wavelengths is not None:
            return [float(w) for w in self.wavelengths]
        return bands.declared_wavelengths_nm(sample, self.name_for_errors(), hint="wavelengths_nm=[...] to Haze")

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        lay = ctx.layout
        (r0, c0), _ = bands.window_of(ctx)
        f = smooth_fractal(lay.spatial_shape, (r0, c0), seed=int(params["seed"]), scale_px=float(params["scale_px"]),
                           octaves=3, persistence=0.5)  # low-frequency: from a coarse grid, window-exact
        f *= np.float32(params["variability"])
        f += np.float32(1.0)
        np.maximum(f, 0.0, out=f)
        out = to_float(image)
        if params.get("model") != "rayleigh_aerosol":  # recorded by the deprecated Koschmieder model
            f *= np.float32(float(params["tau_550"]) / math.cos(math.radians(float(params["zenith_deg"]))))
            return haze_koschmieder.koschmieder(out, f, params, lay.n_channels)
        return apply_atmosphere(out, f, params, lay.n_channels)


def _input_level(meta: Mapping[str, Any]) -> str:
    level = str(meta.get("processing_level") or "").upper()
    return "surface" if level.startswith("L2") or meta.get("reflectance_level") == "surface" else "toa"


def _band_terms(sample: Mapping[str, Any], wl: Sequence[float], aod: float, geometry: Mapping[str, float],
                toa: bool, background: float) -> dict:
    """Per band, the coefficients of :func:`apply_atmosphere` in DN (f = local AOD / AOD550):
    ``DN' = A·e^(−c·f)·(DN − z_e) + K·e^(−d·f) + P_a·f + P_r``.

    A top-of-atmosphere input is taken through its own (background) atmosphere first: with
    ρ_e the surface environment, ρ − ρ_e = (ρ_TOA − ⟨ρ_TOA⟩) / G₀ (G₀ the background's
    T↓·e^(−τ/μv)/(1 − Sρ_e)), so A is divided by G₀ and z_e is the DN of the mean.
    """
    gains, offsets = bands.reflectance_scaling(sample)
    values = bands.band_samples(sample)
    keys = ("a", "c", "k", "d", "p_a", "p_r", "z_e", "env_reflectance", "path_reflectance")
    terms: dict[str, list[float]] = {k: [] for k in keys}
    for b, w in enumerate(wl):
        g, o = float(gains[b]), float(offsets[b])
        mean = g * (float(np.mean(values[b], dtype=np.float64)) if values[b].size else 0.0) + o
        atm = atmosphere.band_atmosphere(w, aod_550=aod, **geometry)
        env, g0 = min(max(mean, 0.0), 1.0), 1.0
        if toa:
            atm0 = atmosphere.band_atmosphere(w, aod_550=background, **geometry)
            env, g0 = _surface_environment(atm0, mean)
        inv_mu = 1.0 / atm.mu_s + 1.0 / atm.mu_v
        norm = 1.0 - atm.spherical_albedo * env
        terms["a"].append(math.exp(-atm.loss_r / atm.mu_s - atm.tau_r / atm.mu_v) / norm / g0)
        terms["c"].append(atm.loss_a / atm.mu_s + atm.tau_a / atm.mu_v)
        terms["k"].append(env / norm * math.exp(-atm.loss_r * inv_mu) / g)
        terms["d"].append(atm.loss_a * inv_mu)
        terms["p_a"].append(atm.path_a / g)
        terms["p_r"].append((atm.path_r - o) / g)
        terms["z_e"].append((mean - o) / g)
        terms["env_reflectance"].append(env)
        terms["path_reflectance"].append(atm.path_reflectance())
    return terms


def _surface_environment(atm0: atmosphere.BandAtmosphere, toa_mean: float) -> tuple[float, float]:
    """(surface environment reflectance ρ_e, G₀) under the background atmosphere, from the
    mean top-of-atmosphere reflectance: ⟨ρ_TOA⟩ − ρ_path = T↓T↑·ρ_e / (1 − S·ρ_e)."""
    y = toa_mean - atm0.path_reflectance()
    tt = atm0.t_down() * atm0.t_up()
    env = min(max(y / (tt + atm0.spherical_albedo * y), 0.0), 1.0) if y > 0 else 0.0
    return env, atm0.t_down() * atm0.direct_up() / (1.0 - atm0.spherical_albedo * env)


def apply_atmosphere(out: np.ndarray, f: np.ndarray, params: Mapping[str, Any], n: int) -> np.ndarray:
    """ρ_TOA of every pixel in DN, in place on ``out`` (H×W×n float), f = AOD / AOD550 per pixel.

    With G(f) = T↓·e^(−τ/μv)/(1 − Sρ_e) = A·e^(−c·f) and T↓·T↑·ρ_e/(1 − Sρ_e) = K·e^(−d·f):
    ρ' = ρ_path + G·ρ + ρ_e·(T↓T↑/(1 − Sρ_e) − G) = G·(ρ − ρ_e) + K·e^(−d·f) + ρ_path(f).
    """
    width = f.shape[1]
    row = {k: band_ops.tiled([float(v) for v in params[k][:n]], width, out.dtype)
           for k in ("a", "k", "p_a", "p_r", "z_e")}
    neg_c = band_ops.tiled([-float(v) for v in params["c"][:n]], width, out.dtype)
    neg_d = band_ops.tiled([-float(v) for v in params["d"][:n]], width, out.dtype)
    rows = band_ops.as_rows(out)
    m = block_rows(rows.shape[0], rows.shape[1])
    fb, t = (np.empty((m, rows.shape[1]), out.dtype) for _ in range(2))
    for r0, r1 in row_blocks(0, rows.shape[0], rows.shape[1]):
        x, ff, tb = rows[r0:r1], fb[:r1 - r0], t[:r1 - r0]
        spread(f[r0:r1], n, ff)
        np.multiply(ff, neg_c, out=tb)
        np.exp(tb, out=tb)
        tb *= row["a"]
        x -= row["z_e"]
        x *= tb                       # G·(DN − z_e)
        np.multiply(ff, neg_d, out=tb)
        np.exp(tb, out=tb)
        tb *= row["k"]
        x += tb                       # + K·e^(−d·f)
        ff *= row["p_a"]
        x += ff
        x += row["p_r"]               # + ρ_path
    return out


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"satellite.Haze: {old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)
