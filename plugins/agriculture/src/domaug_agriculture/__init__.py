"""domaug-agriculture: drone crop imagery across seasons, growth stages, soil, light and flight.

Transforms (registered as ``agriculture.*``): ``SeasonShift``, ``CropStage``,
``SoilMoisture``, ``SunAngle``, ``CloudShadow``, ``AltitudeChange``,
``FlightMotionBlur``, ``BandMisalignment``.

Band roles come from ``meta["band_names"]`` (``blue``, ``green``, ``red``, ``nir``,
``rededge``, ``alpha``...); 3 bands default to R, G, B; a 4-band uint8 orthomosaic is
R, G, B, Alpha when its band names or ``meta["colorinterp"]`` say so. Pixels outside the
footprint (alpha 0, ``alpha_mask`` 0, ``valid`` False, ``meta["nodata"]``) are never
changed, and the alpha band is never augmented. Frames are 2-D (H×W×bands); volumes
are refused. GSD comes from ``meta["gsd_m"]`` or a projected geotransform.

Public helpers (what the transforms treat as plants, for inspection)::

    from domaug_agriculture import vegetation_mask, ndvi, exg
    plants = vegetation_mask(image, {"band_names": ["blue", "green", "red", "nir", "rededge"]})

Multi-file captures (MicaSense RedEdge ``IMG_nnnn_1..5.tif``: blue, green, red, NIR,
red edge, one band per file) are read by the plugin's ``micasense`` format
(:mod:`domaug_agriculture.micasense_format`) as one H×W×5 item with ``band_names``,
``wavelengths_nm`` and ``black_level`` from the files' tags, and
``band_registration = "raw"`` (the bands are not co-registered); the raw 12-bit DN are
stored MSB-aligned in uint16 (multiples of 16), so do not declare ``bit_depth: 12`` for them.
"""

from typing import Any

__version__ = "0.2.0"

_HELPERS = {"vegetation_mask", "ndvi", "exg", "exgr"}


def __getattr__(name: str) -> Any:  # lazy: importing the package stays light
    if name in _HELPERS:
        from . import vegetation

        return getattr(vegetation, name)
    raise AttributeError(f"module 'domaug_agriculture' has no attribute {name!r}")
