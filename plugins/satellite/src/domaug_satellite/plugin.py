"""Entry point of the satellite plugin: registers its transforms (imported lazily by domaug)."""

from __future__ import annotations

import importlib

from domaug import hookimpl

from .demo import register_demos  # noqa: F401  (hookimpl: ``domaug demo``)

#: registry name → "module:Class" inside domaug_satellite
TRANSFORMS: dict[str, str] = {
    "satellite.CloudCover": "cloud_cover:CloudCover",
    "satellite.Haze": "haze:Haze",
    "satellite.ResolutionChange": "resolution_change:ResolutionChange",
    "satellite.SensorNoise": "sensor_noise:SensorNoise",
    "satellite.Striping": "striping:Striping",
    "satellite.BandMisregistration": "band_misregistration:BandMisregistration",
    "satellite.Illumination": "illumination:Illumination",
}


@hookimpl
def register_transforms(register):
    for name, ref in TRANSFORMS.items():
        module_name, class_name = ref.split(":")
        module = importlib.import_module(f"domaug_satellite.{module_name}")
        register(getattr(module, class_name), name=name)


@hookimpl
def register_formats(register):
    """GeoTIFF (and GDAL-tagged TIFF) through rasterio, above the core plain-TIFF format."""
    from .geotiff_format import GeoTIFFFormat

    register(GeoTIFFFormat())
