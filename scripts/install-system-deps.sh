#!/usr/bin/env bash
# Install the Debian packages runner needs (ffmpeg, cairo/pango headers for manim, TeX for MathTex,
# espeak-ng for the offline voice); with --test also what the tests need (chromium, headless, for
# report.html). Idempotent: does nothing when every package is already installed. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  python3 python3-venv python3-dev build-essential pkg-config
  ffmpeg libcairo2-dev libpango1.0-dev espeak-ng
  texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended dvisvgm
)
if [ "${1:-}" = "--test" ]; then
  PACKAGES+=(chromium)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-system-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
