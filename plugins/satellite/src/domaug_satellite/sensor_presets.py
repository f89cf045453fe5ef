"""Radiometric and geometric presets of real sensors for SensorNoise, Striping, BandMisregistration.

Per band role: the signal-to-noise ratio at a reference radiance L_ref, turned into a
reference reflectance ρ_ref = π·L_ref / E0 (sun at zenith, 1 AU; E0 the band's exo-atmospheric
irradiance), so that the noise is σ(ρ_ref) = ρ_ref / SNR (NEΔρ at ρ_ref). Sources (values as
published, quoted from memory of the papers and handbooks named; check before relying on a digit):

- Landsat-8/9 OLI: on-orbit SNR at L_typical, Morfitt et al., *Remote Sens.* 7, 2208 (2015, doi:10.3390/rs70202208)
  (Knight & Kvaran, *Remote Sens.* 6, 10286 (2014) give the same within a few %); detector
  relative gain residuals < 0.5 % (streaking ≪ 1 %), band-to-band registration < 0.15 px (L1T).
- Sentinel-2 MSI: the SNR requirement at L_ref of the ESA Sentinel-2 User Handbook (2015);
  measured in orbit it is 1.5–3× better (Gascon et al., *Remote Sens.* 9, 584, 2017);
  inter-band registration spec 0.3 px.
- PlanetScope-class cubesats (Dove / SuperDove): SNR ≈ 50–100 on typical land, 0.5 px
  band registration of the frames, ≈ 1 % detector non-uniformity (Planet product specs).
- Drone multispectral camera (MicaSense RedEdge / Parrot Sequoia class, a registered
  orthomosaic): SNR ≈ 100 at mid reflectance, CMOS column pattern ≈ 0.3 %, 0.5 px registration.
- generic: a well-calibrated multispectral satellite (between OLI and MSI), used when the
  metadata does not say the sensor.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from domaug.kit import ParameterError


@dataclass(frozen=True)
class SensorPreset:
    name: str
    #: band role → (SNR, L_ref in W m⁻² sr⁻¹ µm⁻¹, E0 in W m⁻² µm⁻¹)
    radiometry: Mapping[str, tuple[float, float, float]]
    read_noise_fraction: float
    detector_gain_std: float      # relative
    detector_offset_std: float    # reflectance
    registration_px: float        # band-to-band registration accuracy (largest shift, px)
    #: orbit (inclination °, altitude m, descending) for the along-track direction; None: a frame camera
    orbit: tuple[float, float, bool] | None
    aliases: tuple[str, ...] = field(default=())

    def band_noise(self, role: str) -> tuple[float, float]:
        """(SNR, ρ_ref) of a band role; roles the sensor lacks take its median band."""
        if role in self.radiometry:
            snr, l_ref, e0 = self.radiometry[role]
        else:
            snr, l_ref, e0 = sorted(self.radiometry.values())[len(self.radiometry) // 2]
        return snr, math.pi * l_ref / e0

    def nedr(self, role: str) -> float:
        """Noise-equivalent Δρ at the reference reflectance (= ρ_ref / SNR)."""
        snr, ref = self.band_noise(role)
        return ref / snr


OLI = {"coastal": (238, 40.0, 1895), "blue": (364, 40.0, 2004), "green": (302, 30.0, 1821),
       "red": (227, 22.0, 1550), "nir": (204, 14.0, 951), "swir1": (265, 4.0, 247), "swir2": (334, 1.7, 85.5),
       "pan": (149, 23.0, 1723), "cirrus": (165, 6.0, 367)}
MSI = {"coastal": (129, 129.0, 1884), "blue": (154, 128.0, 1959), "green": (168, 128.0, 1823),
       "red": (142, 108.0, 1512), "rededge1": (117, 74.5, 1425), "rededge2": (89, 68.0, 1288),
       "rededge3": (105, 67.0, 1163), "nir": (174, 103.0, 1036), "nir08": (72, 52.5, 955),
       "watervapour": (114, 9.0, 813), "cirrus": (50, 6.0, 367), "swir1": (100, 4.0, 246),
       "swir2": (100, 1.5, 85)}
#: SNR at ρ ≈ 0.3 (L_ref = 0.3·E0/π)
PLANET = {r: (snr, 0.3 * e0 / math.pi, e0) for r, snr, e0 in
          (("blue", 60, 1990), ("green", 80, 1820), ("red", 80, 1550), ("rededge", 70, 1420), ("nir", 90, 1040))}
DRONE = {r: (snr, 0.3 * e0 / math.pi, e0) for r, snr, e0 in
         (("blue", 90, 1990), ("green", 110, 1820), ("red", 110, 1550), ("rededge", 100, 1420), ("nir", 120, 1040))}
GENERIC = {r: (snr, 0.3 * e0 / math.pi, e0) for r, snr, e0 in
           (("blue", 250, 1990), ("green", 250, 1820), ("red", 250, 1550), ("nir", 250, 1040),
            ("swir1", 200, 246), ("swir2", 200, 85))}

PRESETS: dict[str, SensorPreset] = {p.name: p for p in (
    SensorPreset("landsat_oli", OLI, 0.3, 0.003, 0.0002, 0.15, (98.2, 705e3, True),
                 ("LANDSAT_8", "LANDSAT_9", "LANDSAT-8", "LANDSAT-9", "OLI", "OLI_TIRS", "OLI-2", "L8", "L9")),
    SensorPreset("sentinel2_msi", MSI, 0.3, 0.003, 0.0003, 0.3, (98.62, 786e3, True),
                 ("SENTINEL-2", "SENTINEL_2", "SENTINEL-2A", "SENTINEL-2B", "SENTINEL-2C", "S2A", "S2B", "S2C",
                  "MSI")),
    SensorPreset("planetscope", PLANET, 0.4, 0.01, 0.001, 0.5, (97.5, 475e3, True),
                 ("PLANETSCOPE", "PS2", "PS2.SD", "PSB.SD", "DOVE", "SUPERDOVE")),
    SensorPreset("drone_multispectral", DRONE, 0.4, 0.003, 0.0005, 0.5, None,
                 ("MICASENSE", "REDEDGE", "ALTUM", "SEQUOIA", "DJI", "P4 MULTISPECTRAL", "MAVIC 3M")),
    SensorPreset("generic", GENERIC, 0.3, 0.005, 0.0005, 0.3, (98.0, 700e3, True)),
)}
SENSOR_CHOICES = ("auto", *PRESETS)
#: meta keys that may name the platform or instrument
SENSOR_KEYS = ("sensor", "spacecraft", "platform", "instrument", "sensor_id", "spacecraft_id")


def guess_from_meta(meta: Mapping[str, Any]) -> str | None:
    """The preset the metadata names (``meta["sensor"]``, ``["spacecraft"]``, ...), or None."""
    for key in SENSOR_KEYS:
        text = str(meta.get(key) or "").upper()
        if not text:
            continue
        for preset in PRESETS.values():
            if preset.name.upper() == text or any(re.search(rf"(^|[^A-Z0-9]){re.escape(a)}($|[^A-Z0-9])", text)
                                                  for a in preset.aliases):
                return preset.name
    return None


def resolve(sensor: str, meta: Mapping[str, Any]) -> tuple[SensorPreset, str]:
    """(preset, how it was chosen: "given", "meta:<key text>" or "default") for ``sensor``."""
    if sensor != "auto":
        if sensor not in PRESETS:
            raise ParameterError(f"sensor must be one of {list(SENSOR_CHOICES)}, got {sensor!r}")
        return PRESETS[sensor], "given"
    name = guess_from_meta(meta)
    if name is not None:
        said = next(str(meta[k]) for k in SENSOR_KEYS if meta.get(k))
        return PRESETS[name], f"guessed from meta ({said!r})"
    return PRESETS["generic"], "default (meta names no sensor)"


def check_sensor(sensor: str) -> str:
    if sensor not in SENSOR_CHOICES:
        raise ParameterError(f"sensor must be one of {list(SENSOR_CHOICES)}, got {sensor!r}")
    return sensor
