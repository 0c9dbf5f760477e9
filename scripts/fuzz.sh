#!/bin/sh
# fuzz.sh - build the libFuzzer harnesses (tests/fuzz) with clang and run
# each one for a bounded time over its seed corpus.
#
#   scripts/fuzz.sh [SECONDS_EACH] [NAME...]     (default 20 s, every fuzzer)
#
# fuzz_NAME reads tests/fuzz/corpus/NAME/; inputs it discovers go to
# BUILD/fuzz-work/NAME/ (the seed folder in the source tree stays as it is);
# a crashing input is saved as BUILD/fuzz-artifacts/NAME-crash-*.
# Env: CC (default clang-14, else clang), CW_FUZZ_BUILD (default build-fuzz
# in the source tree).  Exit status 1 when any fuzzer found a problem.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
[ $# -gt 0 ] && shift
case $secs in
*[!0-9]* | '') echo "fuzz.sh: SECONDS_EACH must be a whole number: $secs" >&2; exit 2 ;;
esac
build=${CW_FUZZ_BUILD:-$root/build-fuzz}
cc=${CC:-clang-14}
command -v "$cc" >/dev/null 2>&1 || cc=clang
command -v "$cc" >/dev/null 2>&1 || { echo "fuzz.sh: no clang found (set CC)" >&2; exit 2; }

gen=
[ -f "$build/CMakeCache.txt" ] || { command -v ninja >/dev/null 2>&1 && gen="-G Ninja"; }
# Instrument the libraries too (coverage feedback and ASan inside them).
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" $gen -DCMAKE_C_COMPILER="$cc" -DCWSWEEP_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
cmake --build "$build" --target fuzzers

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(find "$build/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x \
		-exec basename {} \; | sed 's/^fuzz_//' | sort)
fi
[ -n "$names" ] || { echo "fuzz.sh: no fuzzers built" >&2; exit 2; }

failed=
for name in $names; do
	bin="$build/tests/fuzz/fuzz_$name"
	seeds="$root/tests/fuzz/corpus/$name"
	work="$build/fuzz-work/$name"
	mkdir -p "$work" "$build/fuzz-artifacts"
	[ -d "$seeds" ] || { echo "fuzz.sh: warning: no seed corpus at $seeds" >&2; seeds=; }
	echo "== fuzz_$name: ${secs}s over ${seeds:-an empty corpus}"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-artifacts/$name-" "$work" $seeds; then
		echo "== fuzz_$name: ok"
	else
		echo "== fuzz_$name: FAILED (see $build/fuzz-artifacts)" >&2
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz.sh: failures:$failed" >&2
	exit 1
fi
echo "fuzz.sh: all fuzzers ran clean"
