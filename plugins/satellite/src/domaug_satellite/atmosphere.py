"""Clear-sky atmosphere per band: Rayleigh and aerosol optical depths, transmittances, path reflectance.

Pure kernels (no randomness, no I/O) behind ``satellite.Haze``. For one band (wavelength λ),
sun zenith θs (μs = cos θs), view zenith θv (μv) and aerosol optical depth at 550 nm:

- Rayleigh optical depth τ_R(λ): Bodhaine et al. (J. Atmos. Oceanic Technol. 16, 1999,
  eq. 30), scaled by surface pressure / 1013.25 hPa (τ_R(550 nm) = 0.097 at sea level);
- aerosol optical depth τ_a(λ) = AOD550·(λ / 550 nm)^−α (Ångström 1929);
- path reflectance, first-order single scattering (Gordon & Wang, Appl. Opt. 33, 1994):
  ρ_path = [τ_R·P_R(Θ) + ω_a·τ_a·P_a(Θ)] / (4·μs·μv), with the Rayleigh phase function
  P_R = ¾(1 + cos²Θ) and a two-term Henyey–Greenstein aerosol phase function
  (Kattawar 1975; weights below give asymmetry g ≈ 0.70, continental aerosol);
- total (direct + diffuse) transmittance T(μ) = exp(−(½·τ_R + β_a·τ_a)/μ), where half of
  the Rayleigh-scattered light and the aerosol's backscattered and absorbed share
  β_a = (1 − ω_a) + ω_a·(1 − g)/2 leave the beam; the direct part is exp(−τ/μ);
- spherical albedo (two-stream estimate, diffuse light with mean path 2τ):
  S = 1 − exp(−2·(½·τ_R + ω_a·(1 − g)/2·τ_a));
- top-of-atmosphere reflectance over a Lambertian pixel ρ in an environment of mean
  reflectance ρ_e (Tanré, Herman & Deschamps, Appl. Opt. 20, 1981; the 6S formulation):
  ρ_TOA = ρ_path + T↓(μs) / (1 − S·ρ_e) · [ρ·e^(−τ/μv) + ρ_e·t_d↑(μv)],
  t_d↑ = T↑(μv) − e^(−τ/μv): the pixel's own contrast comes up through the direct beam
  only; the diffuse upward light carries the environment (the adjacency effect).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: aerosol single-scattering albedo (continental), two-term HG phase function weights
AEROSOL_SSA = 0.92
HG_FORWARD_G, HG_BACKWARD_G, HG_FORWARD_WEIGHT = 0.75, -0.45, 0.96
AEROSOL_G = HG_FORWARD_WEIGHT * HG_FORWARD_G + (1 - HG_FORWARD_WEIGHT) * HG_BACKWARD_G
SEA_LEVEL_HPA = 1013.25


def rayleigh_tau(wavelength_nm: float, pressure_hpa: float = SEA_LEVEL_HPA) -> float:
    """Rayleigh optical depth of the whole atmosphere (Bodhaine et al. 1999, eq. 30; λ in µm)."""
    x = wavelength_nm / 1000.0
    x2 = x * x
    tau = 0.0021520 * (1.0455996 - 341.29061 / x2 - 0.90230850 * x2) / (1.0 + 0.0027059889 / x2 - 85.968563 * x2)
    return tau * pressure_hpa / SEA_LEVEL_HPA


def aerosol_tau(wavelength_nm: float, aod_550: float, angstrom: float) -> float:
    """Aerosol optical depth by the Ångström law, τ_a = AOD550·(λ/550)^−α."""
    return aod_550 * (wavelength_nm / 550.0) ** (-angstrom)


def rayleigh_phase(cos_theta: float) -> float:
    return 0.75 * (1.0 + cos_theta * cos_theta)


def henyey_greenstein(cos_theta: float, g: float) -> float:
    return (1.0 - g * g) / (1.0 + g * g - 2.0 * g * cos_theta) ** 1.5


def aerosol_phase(cos_theta: float) -> float:
    """Two-term Henyey–Greenstein phase function (normalised to a mean of 1 over the sphere)."""
    w = HG_FORWARD_WEIGHT
    return w * henyey_greenstein(cos_theta, HG_FORWARD_G) + (1 - w) * henyey_greenstein(cos_theta, HG_BACKWARD_G)


def scattering_cos(sun_zenith_deg: float, view_zenith_deg: float, relative_azimuth_deg: float = 0.0) -> float:
    """cos Θ of the scattering angle between the incoming sun beam and the view direction."""
    ts, tv = math.radians(sun_zenith_deg), math.radians(view_zenith_deg)
    phi = math.radians(relative_azimuth_deg)
    return -math.cos(ts) * math.cos(tv) - math.sin(ts) * math.sin(tv) * math.cos(phi)


@dataclass(frozen=True)
class BandAtmosphere:
    """One band's atmosphere: the Rayleigh and the aerosol parts kept apart, so the aerosol
    optical depth can vary in space (``aerosol_scale`` f multiplies τ_a)."""

    tau_r: float
    tau_a: float
    mu_s: float
    mu_v: float
    path_r: float  # Rayleigh path reflectance
    path_a: float  # aerosol path reflectance (∝ τ_a)
    loss_r: float  # ½·τ_R: Rayleigh share that leaves the beam
    loss_a: float  # β_a·τ_a
    spherical_albedo: float

    def path_reflectance(self, f: float = 1.0) -> float:
        return self.path_r + f * self.path_a

    def t_down(self, f: float = 1.0) -> float:
        return math.exp(-(self.loss_r + f * self.loss_a) / self.mu_s)

    def t_up(self, f: float = 1.0) -> float:
        return math.exp(-(self.loss_r + f * self.loss_a) / self.mu_v)

    def direct_up(self, f: float = 1.0) -> float:
        return math.exp(-(self.tau_r + f * self.tau_a) / self.mu_v)

    def toa(self, rho: float, rho_env: float, f: float = 1.0) -> float:
        """ρ_TOA of a pixel of reflectance ``rho`` in an environment ``rho_env`` (module formula)."""
        diffuse_up = self.t_up(f) - self.direct_up(f)
        gain = self.t_down(f) / (1.0 - self.spherical_albedo * rho_env)
        return self.path_reflectance(f) + gain * (rho * self.direct_up(f) + rho_env * diffuse_up)


def band_atmosphere(wavelength_nm: float, *, aod_550: float, angstrom: float, sun_zenith_deg: float,
                    view_zenith_deg: float = 0.0, pressure_hpa: float = SEA_LEVEL_HPA,
                    ssa: float = AEROSOL_SSA) -> BandAtmosphere:
    """The :class:`BandAtmosphere` of one band (formulas in the module docstring)."""
    tau_r = rayleigh_tau(wavelength_nm, pressure_hpa)
    tau_a = aerosol_tau(wavelength_nm, aod_550, angstrom)
    mu_s = math.cos(math.radians(sun_zenith_deg))
    mu_v = math.cos(math.radians(view_zenith_deg))
    cos_t = scattering_cos(sun_zenith_deg, view_zenith_deg)
    norm = 4.0 * mu_s * mu_v
    back = (1.0 - AEROSOL_G) / 2.0
    loss_a = ((1.0 - ssa) + ssa * back) * tau_a
    s = 1.0 - math.exp(-2.0 * (0.5 * tau_r + ssa * back * tau_a))
    return BandAtmosphere(tau_r=tau_r, tau_a=tau_a, mu_s=mu_s, mu_v=mu_v,
                          path_r=tau_r * rayleigh_phase(cos_t) / norm,
                          path_a=ssa * tau_a * aerosol_phase(cos_t) / norm,
                          loss_r=0.5 * tau_r, loss_a=loss_a, spherical_albedo=s)


def diffuse_fraction(wavelength_nm: float, *, aod_550: float, sun_zenith_deg: float, angstrom: float = 1.3) -> float:
    """Skylight share of the ground irradiance, (T↓ − e^(−τ/μs)) / T↓, of a clear sky (module formulas)."""
    atm = band_atmosphere(wavelength_nm, aod_550=aod_550, angstrom=angstrom, sun_zenith_deg=sun_zenith_deg)
    total = atm.t_down()
    return (total - math.exp(-(atm.tau_r + atm.tau_a) / atm.mu_s)) / total
