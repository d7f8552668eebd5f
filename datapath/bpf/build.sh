#!/usr/bin/env bash
# Compiles every datapath/bpf/*.c into an eBPF object under the given output directory.
# Called by the Maven build (generate-resources); usage: build.sh OUTPUT_DIR
set -euo pipefail
out=${1:?usage: build.sh OUTPUT_DIR}
src=$(cd "$(dirname "$0")" && pwd)
clang=${MESHWORK_CLANG:-clang}
if ! command -v "$clang" >/dev/null 2>&1; then
  echo "datapath: clang not found; the eBPF programs need it: apt-get install clang llvm libbpf-dev" >&2
  exit 1
fi
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
  echo "datapath: /usr/include/bpf/bpf_helpers.h not found: apt-get install libbpf-dev" >&2
  exit 1
fi
arch_include=/usr/include/$(uname -m)-linux-gnu
mkdir -p "$out"
for c in "$src"/*.c; do
  name=$(basename "$c" .c)
  "$clang" -O2 -g -target bpf -Wall -Werror -I"$arch_include" -I"$src" -c "$c" -o "$out/$name.o"
done
