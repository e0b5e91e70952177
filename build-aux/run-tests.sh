#!/bin/sh
# Sets up, builds and runs the whole test suite (UI tests under Xvfb), then
# prints "N passed, N failed, N skipped" counted from meson's testlog.json.
set -eu

cd "$(dirname "$0")/.."
./build-aux/setup.sh

status=0
xvfb-run -a -s "-screen 0 1280x800x24" \
  meson test -C _build --print-errorlogs --num-processes 2 "$@" || status=$?

python3 - _build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        result = json.loads(line).get("result", "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
