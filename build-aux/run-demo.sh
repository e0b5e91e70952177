#!/bin/sh
# Sets up, builds, creates a demo book if there is none, and runs Recoup on it.
set -eu

cd "$(dirname "$0")/.."
./build-aux/setup.sh

BOOK="${RECOUP_BOOK:-$(pwd)/_build/demo.recoup}"
export RECOUP_BOOK="$BOOK"
CLI=_build/src/cli/recoup-cli

if [ ! -f "$BOOK" ]; then
  echo "Creating a demo book with 5,000 accounts at $BOOK"
  "$CLI" --book "$BOOK" demo --accounts 5000 --seed 42
fi

APP=_build/src/app/recoup
if [ -x "$APP" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  # Uninstalled: the GSettings schema is compiled in the build tree.
  GSETTINGS_SCHEMA_DIR="$(pwd)/_build/data" exec "$APP" --book "$BOOK"
fi

# No display (or no app build): show the book from the command line.
echo
"$CLI" --book "$BOOK" aging
echo
if "$CLI" worklist --help >/dev/null 2>&1; then
  echo "Top of the worklist:"
  "$CLI" --book "$BOOK" worklist --limit 15
else
  echo "Largest balances:"
  "$CLI" --book "$BOOK" accounts --limit 15
fi
if [ -x "$APP" ]; then
  echo
  echo "The desktop app needs a display: run $APP --book $BOOK from a desktop session."
fi
