"""The along-track direction of a sun-synchronous satellite over a raster (pure, no randomness).

Ground-track azimuth of a circular orbit of inclination i at latitude φ: in inertial space
``sin β = cos i / cos φ`` (spherical trigonometry of the orbit plane; β from north, clockwise,
descending pass towards the south); the Earth turning under the satellite slows the eastward
ground speed by ``ω⊕·R·cos φ`` (e.g. Capderou, *Satellites: Orbits and Missions*, 2005, ch. 8).
For Landsat 8 (i = 98.2°, descending) at 30° N this gives 192.8°: the image columns of a
north-up L1T product are 12.8° off the detector lines. The azimuth is turned from true north to
the raster's grid north through the CRS (rasterio), so UTM grid convergence is included.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from . import bands

EARTH_RADIUS_M = 6_371_000.0
EARTH_MU = 3.986004418e14  # m³/s²
EARTH_OMEGA = 7.2921159e-5  # rad/s


def track_azimuth_deg(inclination_deg: float, altitude_m: float, latitude_deg: float,
                      descending: bool = True) -> float:
    """True azimuth (° clockwise from north) of the ground track at ``latitude_deg``."""
    cos_lat = max(math.cos(math.radians(latitude_deg)), 1e-6)
    s = max(-1.0, min(1.0, math.cos(math.radians(inclination_deg)) / cos_lat))
    beta = math.pi - math.asin(s) if descending else math.asin(s)
    r = EARTH_RADIUS_M + altitude_m
    v_ground = math.sqrt(EARTH_MU / r) * EARTH_RADIUS_M / r
    east = v_ground * math.sin(beta) - EARTH_OMEGA * EARTH_RADIUS_M * cos_lat
    north = v_ground * math.cos(beta)
    return math.degrees(math.atan2(east, north)) % 360.0


def raster_centre_lonlat(meta: Mapping[str, Any], shape) -> tuple[float, float, Any] | None:
    """(lon, lat, transformer) of the raster centre, or None without a usable transform and CRS."""
    t, crs = meta.get("transform"), meta.get("crs")
    if t is None or crs is None:
        return None
    x0, dx, rx, y0, ry, dy = (float(v) for v in t)
    h, w = shape
    x, y = x0 + dx * w / 2 + rx * h / 2, y0 + ry * w / 2 + dy * h / 2
    if bands.is_geographic(crs):
        return x, y, None
    try:
        from rasterio.warp import transform as warp
        lon, lat = warp(crs, "EPSG:4326", [x], [y])
    except Exception:  # no rasterio, or a CRS it cannot read: no latitude
        return None
    return float(lon[0]), float(lat[0]), (warp, crs, x, y)


def grid_azimuth_deg(meta: Mapping[str, Any], shape, true_azimuth_deg: float) -> float:
    """A true azimuth at the raster centre as an azimuth from the raster's grid "up" (row −1)
    direction, clockwise: through the CRS and the geotransform (rotated grids included)."""
    centre = raster_centre_lonlat(meta, shape)
    m = bands.ground_matrix(meta)
    az = math.radians(true_azimuth_deg)
    if centre is None or m is None:
        return true_azimuth_deg
    lon, lat, proj = centre
    step = 1e-3  # degrees of arc, ≈ 110 m
    lat2 = lat + step * math.cos(az)
    lon2 = lon + step * math.sin(az) / max(math.cos(math.radians(lat)), 1e-6)
    if proj is None:  # geographic grid: degrees, as the geotransform's ground matrix turns them into metres
        de, dn = (lon2 - lon) * 111_320.0 * math.cos(math.radians(lat)), (lat2 - lat) * 111_320.0
    else:
        warp, crs, x, y = proj
        xs, ys = warp("EPSG:4326", crs, [lon2], [lat2])
        de, dn = float(xs[0]) - x, float(ys[0]) - y
    col, row = np.linalg.solve(m, np.array([de, dn]))
    return math.degrees(math.atan2(col, -row)) % 360.0
