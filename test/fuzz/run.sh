#!/usr/bin/env bash
# Build and run every libFuzzer target test/fuzz/fuzz_X.c against its
# parser src/X_parse.c, with AddressSanitizer and UBSan; then every
# SQL-level target test/fuzz/fuzz_X.pl against a throwaway server (see
# sql_fuzz below).
#
#   test/fuzz/run.sh [seconds-per-target]     (default 10)
#
# Each target runs on a scratch corpus test/fuzz/corpus-X seeded from
# test/fuzz/seeds/X (kept between runs, ignored by git).  Prints one line
# per target and exits non-zero if any target failed to build or found a
# problem; the log and any crashing input are left in test/fuzz/build/.
set -u

seconds=${1:-10}
case $seconds in
	'' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.." || exit 2
build=test/fuzz/build
mkdir -p "$build"

CC=${FUZZ_CC:-clang}	# not $CC: gcc has no -fsanitize=fuzzer
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

failed=0
found=0
for target in test/fuzz/fuzz_*.c; do
	[ -e "$target" ] || continue
	found=1
	name=$(basename "$target" .c)		# fuzz_X
	x=${name#fuzz_}						# X
	bin=$build/$name
	log=$build/$name.log
	corpus=test/fuzz/corpus-$x
	printf 'fuzz %s ... ' "$x"

	if ! $CC $CFLAGS -Isrc "$target" "src/${x}_parse.c" -o "$bin" >"$log" 2>&1; then
		echo "FAILED (build, see $log)"
		failed=1
		continue
	fi

	mkdir -p "$corpus"
	if [ -d "test/fuzz/seeds/$x" ]; then
		cp -n test/fuzz/seeds/"$x"/* "$corpus"/ 2>/dev/null
	fi

	if "$bin" -max_total_time="$seconds" -max_len=4096 \
		-artifact_prefix="$build/$name-" "$corpus" >>"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
		echo "ok (${runs:-?} runs)"
	else
		echo "FAILED (see $log)"
		grep -E '^fuzz_|^input:|^==[0-9]+== *ERROR|^SUMMARY|Test unit written' "$log" | head -n 10 | sed 's/^/    /'
		failed=1
	fi
done

# SQL-level targets: test/fuzz/fuzz_X.pl drives leadflow's SQL functions
# through a throwaway server and checks them against a reference of its own
# (the rule matcher reads jsonb in place, so it cannot be linked without
# PostgreSQL).  They need leadflow built and installed for $PG_CONFIG.
sql_fuzz() {
	local target=$1 log=$2 dir bindir port=5499 seed=$((RANDOM * 32768 + RANDOM)) status
	(
		. test/lib.sh
		bindir=$($PG_CONFIG --bindir) || exit 1
		dir=$(mktemp -d /tmp/leadflow-fuzz.XXXXXX) || exit 1
		trap 'stop_cluster "$dir"' EXIT
		start_cluster "$dir" "$port" || exit 1
		as_run_user "$bindir/psql" -X -q -h "$dir/sock" -p "$port" -U postgres -d postgres \
			-c "CREATE EXTENSION leadflow" || exit 1
		echo "seed $seed"
		# the script on stdin: the server's user may not read this tree
		as_run_user perl - "$seconds" "$seed" -- "$bindir/psql" -h "$dir/sock" -p "$port" \
			-U postgres -d postgres <"$target"
	) >"$log" 2>&1
}

for target in test/fuzz/fuzz_*.pl; do
	[ -e "$target" ] || continue
	found=1
	name=$(basename "$target" .pl)
	x=${name#fuzz_}
	log=$build/$name.log
	printf 'fuzz %s ... ' "$x"
	if sql_fuzz "$target" "$log"; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
		echo "ok (${runs:-?} runs)"
	else
		echo "FAILED (see $log)"
		grep -E '^fuzz_|^  (server|reference|case):|^seed|ERROR|error' "$log" | head -n 10 |
			cut -c 1-300 | sed 's/^/    /'
		failed=1
	fi
done

if [ $found -eq 0 ]; then
	echo "no fuzz targets in test/fuzz" >&2
	exit 1
fi
exit $failed
