"""Band-to-band misregistration of drone cameras, per camera and product level.

- ``micasense-rededge-raw``: the raw frames of a MicaSense RedEdge (one lens and sensor per
  band). Offsets measured on the capture in ``shared/data/agriculture`` by phase
  correlation against the green band (scikit-image ``phase_cross_correlation``): the
  content of each raw band sits at these (row, col) pixels from green's. They come from
  the lenses' boresight differences (constant in pixels; the 1–2 cm lens baseline adds
  < 1 px of parallax at usual flight heights), so each capture varies by ~0.5 px only.
- ``registered``: bands warped onto one grid (MicaSense ``imageprocessing`` warp matrices,
  Pix4D/Agisoft products): residuals of 0.05–0.5 px.
- ``multilens-raw``: another multi-lens camera (Parrot Sequoia, Sentera, DJI P4
  Multispectral) before registration: 5–15 px in a random direction per band.
- ``single-sensor``: a Bayer RGB camera records all bands through one lens on one
  sensor; its bands are not misaligned (demosaicking is not a band shift).
"""

from __future__ import annotations

#: MicaSense RedEdge raw: band content offset (row, col) px from the green band's.
MICASENSE_REDEDGE_RAW_PX: dict[str, tuple[float, float]] = {
    "blue": (-11.5, -8.3),
    "red": (-2.5, -1.0),
    "nir": (0.0, 8.8),
    "rededge": (-4.8, 14.0),
}

PRESETS: dict[str, dict] = {
    "micasense-rededge-raw": {"offsets_px": MICASENSE_REDEDGE_RAW_PX, "jitter_px": 0.5, "shift_px": (8.0, 15.0),
                              "rotation_deg": (0.0, 0.1), "scale_change": (0.0, 0.002)},
    "registered": {"shift_px": (0.05, 0.5), "rotation_deg": (0.0, 0.0), "scale_change": (0.0, 0.0)},
    "multilens-raw": {"shift_px": (5.0, 15.0), "rotation_deg": (0.0, 0.1), "scale_change": (0.0, 0.002)},
    "single-sensor": {"shift_px": (0.0, 0.0), "rotation_deg": (0.0, 0.0), "scale_change": (0.0, 0.0)},
}
#: aliases users may type
ALIASES = {"micasense-rededge-registered": "registered", "rgb": "single-sensor", "bayer": "single-sensor",
           "sequoia-raw": "multilens-raw"}


def camera_for(band_names: list[str]) -> str:
    """``auto``: a frame whose light-carrying bands are exactly red, green and blue is a
    single-sensor RGB photo; any other band set a registered multispectral product."""
    spectral = [n for n in band_names if n != "alpha"]
    return "single-sensor" if sorted(spectral) == ["blue", "green", "red"] else "registered"
