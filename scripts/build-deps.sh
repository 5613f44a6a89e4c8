#!/usr/bin/env bash
# Install the build tools the workspace needs beyond the Rust toolchain, if missing. The `highs`
# crate (HiGHS, the LP solver of the disclosure-control interval audit) is built from source:
# it needs cmake, a C++ compiler, and libclang (bindgen generates its bindings). As root on
# Debian/Ubuntu: the distribution's packages; otherwise it says what is missing.
set -euo pipefail
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || missing+=(g++)
# libclang itself (bindgen loads libclang.so or libclang-<version>.so); libclang-cpp is another library.
if [ -z "${LIBCLANG_PATH:-}" ] && ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* \
    /usr/lib/x86_64-linux-gnu/libclang.so* /usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so* >/dev/null 2>&1; then
  missing+=(libclang-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing build tools: ${missing[*]}" >&2
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing build tools: ${missing[*]} (install them, e.g. apt-get install ${missing[*]}; or set LIBCLANG_PATH)" >&2
  exit 1
fi
