#!/bin/sh
# `cmake --install` to a fresh prefix gives what a VDDK user expects
# (libvixDiskLib.so -> .so.8 -> .so.8.0.0, the headers, vixDiskLib.pc, the
# freevix command), and a program built with pkg-config against that
# prefix runs.
set -eu
build=$1
src=$2
cc=$3
LANG=C
export LANG
prefix=$(mktemp -d "${TMPDIR:-/tmp}/freevix-install-XXXXXX")
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name vixDiskLib.pc)
libdir=$(dirname "$(dirname "$pc")")
test -L "$libdir/libvixDiskLib.so"
test -L "$libdir/libvixDiskLib.so.8"
test -f "$libdir/libvixDiskLib.so.8.0.0"
test -f "$prefix/include/vixDiskLib.h"
test -f "$prefix/include/freevix.h"
test -x "$prefix/bin/freevix"

PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
"$cc" -o "$prefix/vddk_program" "$src/tests/abi/vddk_program.c" \
  $(pkg-config --cflags --libs vixDiskLib)
LD_LIBRARY_PATH=$libdir "$prefix/vddk_program" >/dev/null
LD_LIBRARY_PATH=$libdir "$prefix/bin/freevix" --version
echo "installed and usable under $prefix"
