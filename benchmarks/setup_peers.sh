#!/usr/bin/env bash
# A throwaway venv with domaug (editable) and the pinned peers, CPU only (no CUDA torch).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benchmarks/.venv-peers
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip="$venv/bin/python -m pip install -q --disable-pip-version-check"
$pip -e . -e ./plugins/medical -e ./plugins/driving -e ./plugins/satellite -e ./plugins/agriculture
$pip torch==2.13.0                       # the CPU wheel on this machine's disk; never a CUDA build
$pip albumentations==2.0.8 opencv-python-headless
$pip --no-deps torchio==1.2.1 monai==1.6.1
$pip SimpleITK nibabel humanize typer rich deprecated einops jaxtyping
echo "peers ready: $venv/bin/python benchmarks/run.py"
