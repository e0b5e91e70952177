#!/bin/sh
# Installs what Recoup needs on Debian 12 (only what is missing), then configures
# and builds it in _build. Run as root on a fresh machine; safe to run again.
set -eu

cd "$(dirname "$0")/.."

PACKAGES="meson ninja-build pkg-config gcc libglib2.0-dev libglib2.0-dev-bin
  libgtk-4-dev libadwaita-1-dev libsoup-3.0-dev libjson-glib-dev libsqlite3-dev sqlite3
  libcsv-dev libyajl-dev libsecret-1-dev glib-networking gettext appstream desktop-file-utils
  xvfb xauth openssl python3 flatpak-builder libcairo2-dev libpango1.0-dev
  libxlsxwriter-dev poppler-utils libgmime-3.0-dev libcurl4-gnutls-dev python3-aiosmtpd"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "Installing:$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing packages; run this as root (or install them:$missing)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -f _build/build.ninja ]; then
  meson setup _build --buildtype=debugoptimized
fi
ninja -C _build
