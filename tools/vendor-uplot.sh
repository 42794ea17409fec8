#!/usr/bin/env bash
# Vendors uPlot (https://github.com/leeoniya/uPlot, MIT) into the console's
# static files from the npm registry, at the pinned version, after checking
# the tarball against the pinned sha512 and the registry's own
# dist.integrity. The files are committed, so `go build` needs no npm.
#
#   bash tools/vendor-uplot.sh           # (re)write internal/console/static/vendor/
#   bash tools/vendor-uplot.sh --check   # fail if the embedded files differ from the package
#
# To upgrade: set UPLOT_VERSION, run with UPLOT_INTEGRITY="" to print the
# registry's integrity, pin it here, run again, and look at the console's
# reports page.
set -euo pipefail
cd "$(dirname "$0")/.."

UPLOT_VERSION="1.6.32"
UPLOT_INTEGRITY="${UPLOT_INTEGRITY-sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==}"
DEST="internal/console/static/vendor"
FILES=("dist/uPlot.iife.min.js:uPlot.iife.min.js" "dist/uPlot.min.css:uPlot.min.css" "LICENSE:LICENSE-uPlot")

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

registry="$(npm view "uplot@$UPLOT_VERSION" dist.integrity 2>/dev/null)"
if [ -z "$registry" ]; then
  echo "vendor-uplot: the registry does not know uplot@$UPLOT_VERSION" >&2
  exit 1
fi
if [ -z "$UPLOT_INTEGRITY" ]; then
  echo "vendor-uplot: the registry's integrity of uplot@$UPLOT_VERSION is $registry; pin it in $0" >&2
  exit 1
fi
if [ "$registry" != "$UPLOT_INTEGRITY" ]; then
  echo "vendor-uplot: the registry's integrity of uplot@$UPLOT_VERSION ($registry) is not the pinned $UPLOT_INTEGRITY" >&2
  exit 1
fi

(cd "$tmp" && npm pack "uplot@$UPLOT_VERSION" --silent >/dev/null 2>&1)
tarball="$tmp/uplot-$UPLOT_VERSION.tgz"
if [ ! -f "$tarball" ]; then
  echo "vendor-uplot: npm pack did not produce $tarball" >&2
  exit 1
fi
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 | tr -d '\n')"
if [ "$got" != "$UPLOT_INTEGRITY" ]; then
  echo "vendor-uplot: the downloaded tarball's integrity $got is not the pinned $UPLOT_INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"

status=0
[ "$check" = 1 ] || mkdir -p "$DEST"
for pair in "${FILES[@]}"; do
  src="$tmp/package/${pair%%:*}" dst="$DEST/${pair##*:}"
  if [ "$check" = 1 ]; then
    if ! cmp -s "$src" "$dst"; then
      echo "vendor-uplot: $dst differs from ${pair%%:*} of uplot@$UPLOT_VERSION (run bash tools/vendor-uplot.sh)" >&2
      status=1
    fi
  else
    cp "$src" "$dst"
  fi
done
if [ "$check" = 1 ] && [ "$status" = 0 ]; then
  echo "vendor-uplot: $DEST matches uplot@$UPLOT_VERSION ($UPLOT_INTEGRITY)"
elif [ "$check" = 0 ]; then
  echo "vendor-uplot: wrote uplot@$UPLOT_VERSION to $DEST"
fi
exit "$status"
