#!/usr/bin/env bash
# Builds wasm/knock-scan.wasm from wasm/knock-scan.c (Debian: clang-14 and lld-14). The
# committed module is this script's output; a test rebuilds it and compares the bytes.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-knock-scan.wasm}
clang-14 --target=wasm32 -O3 -nostdlib -fno-builtin-memcpy -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--strip-all -Wl,--initial-memory=2162688 \
  -fvisibility=default -o "$out" knock-scan.c
