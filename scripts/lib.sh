# Shared by the scripts: where things are, and which Python runs the fake.
# shellcheck shell=bash
CW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CW_ROOT

# A python3 that can import botocore, so the fake endpoint checks signatures
# with botocore's signer; falls back to the first python3 (built-in checker).
cw_pick_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import botocore' 2>/dev/null; then
      command -v "$py"; return
    fi
  done
  command -v python3
}

# Configure (once) and build a tree: cw_build DIR [cmake args...]
cw_build() {
  local dir=$1; shift
  if [[ ! -f "$dir/CMakeCache.txt" ]]; then
    cmake -S "$CW_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
  fi
  cmake --build "$dir" -- -j"$(nproc)" >/dev/null
}
