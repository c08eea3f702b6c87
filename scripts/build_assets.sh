#!/usr/bin/env bash
# Install the desk's front-end libraries from the npm registry (package-lock.json)
# and copy the files the desk serves into desk/web/static/vendor. Browsers never
# fetch anything from outside the desk.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "npm is needed to build the desk's assets: install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
vendor=desk/web/static/vendor
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/chart.js/dist/chart.umd.js "$vendor/chart.umd.js"
# Leaflet for the public map of service points (/sportelli/): script, stylesheet, marker images.
mkdir -p "$vendor/leaflet/images"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$vendor/leaflet/"
cp node_modules/leaflet/dist/images/marker-icon.png node_modules/leaflet/dist/images/marker-icon-2x.png \
   node_modules/leaflet/dist/images/marker-shadow.png "$vendor/leaflet/images/"
