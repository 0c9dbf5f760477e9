# Shared by the scripts: where things are, and which Python runs the fake.
# shellcheck shell=bash
CW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CW_ROOT

# A python3 that can import botocore, so the fake endpoint checks signatures
# with botocore's signer; falls back to the first python3 (built-in checker).
cw_pick_python() {
  local py
  # Debian's python3 first: scripts/install-deps installs the test modules
  # (botocore, yaml, yamllint, kubernetes) for it, not for another python3
  # that may come first on PATH
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import botocore' 2>/dev/null; then
      command -v "$py"; return
    fi
  done
  command -v python3
}

# Configure and build a tree: cw_build DIR [cmake args...]
# Quiet when all is well; on failure prints the end of the log and returns 1.
# A tree that an earlier failure left half-configured (a CMakeCache.txt but no
# build.ninja), or that was configured for another checkout or generator, is
# configured afresh instead of being a dead end.
cw_build() {
  local dir=$1; shift
  local cache="$dir/CMakeCache.txt" log="$dir/cw-build.log"
  if [[ -f "$cache" ]]; then
    if [[ ! -f "$dir/build.ninja" ]] ||
       ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$CW_ROOT" "$cache" ||
       ! grep -qxF "CMAKE_GENERATOR:INTERNAL=Ninja" "$cache"; then
      echo "cw_build: $dir was left half-configured or belongs to another checkout; configuring it afresh" >&2
      rm -rf "$cache" "$dir/CMakeFiles" "$dir/build.ninja"
    fi
  fi
  mkdir -p "$dir"
  # configuring again is cheap and applies the arguments given this time
  if ! cmake -S "$CW_ROOT" -B "$dir" -G Ninja "$@" >"$log" 2>&1; then
    echo "cw_build: cmake could not configure $dir:" >&2
    tail -n 25 "$log" >&2
    return 1
  fi
  if ! cmake --build "$dir" -- -j"$(nproc)" >"$log" 2>&1; then
    echo "cw_build: the build in $dir failed:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}
