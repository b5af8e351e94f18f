#!/usr/bin/env bash
# Install the console's chart library (Chart.js, from the npm registry) into a gitignored directory.
# Idempotent and quick when the pinned version is already there. Without npm it warns and exits 0:
# the console then shows its tables without charts.
set -euo pipefail

CHARTJS_VERSION="4.6.1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENDOR="${CONSOLE_VENDOR_DIR:-$HERE/static/vendor}"
BUNDLE="$VENDOR/node_modules/chart.js/dist/chart.umd.min.js"
STAMP="$VENDOR/.chartjs-$CHARTJS_VERSION"

if [[ -f "$BUNDLE" && -f "$STAMP" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "install_assets: npm not found; the console will show tables without charts" >&2
    exit 0
  fi
fi
mkdir -p "$VENDOR"
npm install --prefix "$VENDOR" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
  "chart.js@$CHARTJS_VERSION" >/dev/null
if [[ ! -f "$BUNDLE" ]]; then
  echo "install_assets: chart.js installed but $BUNDLE is missing" >&2
  exit 1
fi
rm -f "$VENDOR"/.chartjs-*
touch "$STAMP"
echo "install_assets: chart.js $CHARTJS_VERSION in $VENDOR"
