#!/bin/sh
# Build and run every test suite twice: a normal build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Prints one closing
# line "N passed, N failed" over both runs and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
status=0
total_pass=0
total_fail=0

run() { # name, build dir, meson options...
	name=$1 dir=$2
	shift 2
	if [ ! -f "$dir/build.ninja" ]; then
		log=$(mktemp)
		meson setup "$dir" "$@" >"$log" 2>&1 || { cat "$log"; rm -f "$log"; return 1; }
		rm -f "$log"
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
	echo "== $name: meson test -C $dir"
	meson test -C "$dir" --print-errorlogs --num-processes 2 "--timeout-multiplier=${TIMEOUT_MULTIPLIER:-3}"
	rc=$?
	counts=$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
        ok += 1
    else:
        bad += 1
print(ok, bad)
PY
)
	set -- $counts
	total_pass=$((total_pass + $1))
	total_fail=$((total_fail + $2))
	return $rc
}

run "normal build" build || status=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	run "ASan+UBSan build" build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debug || status=1
echo "tests: $total_pass passed, $total_fail failed"
exit $status
