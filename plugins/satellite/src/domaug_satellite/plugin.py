"""Entry point of the satellite plugin: registers its transforms, the GeoTIFF format and its demo
(imported lazily by domaug)."""

from __future__ import annotations

from domaug import hookimpl
from domaug.kit import register_table

#: registry name → "module:Class"
TRANSFORMS: dict[str, str] = {
    "satellite.CloudCover": "domaug_satellite.cloud_cover:CloudCover",
    "satellite.Haze": "domaug_satellite.haze:Haze",
    "satellite.ResolutionChange": "domaug_satellite.resolution_change:ResolutionChange",
    "satellite.SensorNoise": "domaug_satellite.sensor_noise:SensorNoise",
    "satellite.Striping": "domaug_satellite.striping:Striping",
    "satellite.BandMisregistration": "domaug_satellite.band_misregistration:BandMisregistration",
    "satellite.Illumination": "domaug_satellite.illumination:Illumination",
}


@hookimpl
def register_transforms(register):
    register_table(register, TRANSFORMS)


@hookimpl
def register_targets(register):
    """The cloud and shadow label maps CloudCover creates (0 clear, 1 cloud / shadow)."""
    register("cloud_mask", "mask")
    register("shadow_mask", "mask")


@hookimpl
def register_formats(register):
    """GeoTIFF (and GDAL-tagged TIFF) through rasterio, above the core plain-TIFF format."""
    from .geotiff_format import GeoTIFFFormat

    register(GeoTIFFFormat())


@hookimpl
def register_demos(register):
    """``domaug demo satellite``: clouds over a synthesised 4-band Sentinel-2-like GeoTIFF."""
    from . import demo

    register("satellite", demo.make_inputs, demo.pipeline_dict(TRANSFORMS))


@hookimpl
def register_gallery_panels(register):
    """``domaug gallery satellite``: CloudCover's stratocumulus and cirrus beside each input
    (see :mod:`.gallery_panels`)."""
    from .gallery_panels import panels

    register("satellite", panels)
