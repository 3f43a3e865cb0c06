#!/bin/bash
# interop_delta.sh -- the delta formats and the stream writer against
# qemu-img (qemu-utils) and libvmdk's vmdkinfo, with a model neither wrote.
#
#  1. hand-built vmfsSparse (COWD) chains (512-byte and 8 KiB grains) and an
#     SEsparse chain (delta_tool: every field from the published layout)
#     read the same through qemu-img convert and through freevix, and both
#     equal the model;
#  2. streamOptimized disks written through VixDiskLib_Create + sequential
#     VixDiskLib_Write: qemu-img compare and convert equal the model, qemu-img
#     check and vmdkinfo accept them, freevix reads them back.
# Usage: interop_delta.sh /path/to/delta_tool /path/to/disk_tool
set -euo pipefail
export LANG=C
DT=$1
TOOL=$2
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/fvx-interop-delta-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# reads LABEL DISK MODEL: qemu-img and freevix both read DISK as MODEL
reads() {
  if qemu-img convert -q -f vmdk -O raw "$2" "$T/qemu.raw" &&
     cmp -s "$T/qemu.raw" "$3"; then
    ok "$1 reads as the model through qemu-img"
  else bad "$1 through qemu-img"; fi
  if "$TOOL" dump "$2" "$T/ours.raw" 2>/dev/null && cmp -s "$T/ours.raw" "$3"; then
    ok "$1 reads as the model through freevix"
  else bad "$1 through freevix"; fi
  rm -f "$T/qemu.raw" "$T/ours.raw"
}

echo "# 1. vmfsSparse and SEsparse chains"
rm -rf "$T/c" && mkdir "$T/c"
"$DT" cowd "$T/c" $((4 * 4096 - 100)) 1 11
reads "vmfsSparse, 512-byte grains" "$T/c/cowd.vmdk" "$T/c/expected.raw"
rm -rf "$T/c" && mkdir "$T/c"
"$DT" cowd "$T/c" $((2 * 65536 + 1003)) 16 12
reads "vmfsSparse, 8 KiB grains" "$T/c/cowd.vmdk" "$T/c/expected.raw"
rm -rf "$T/c" && mkdir "$T/c"
"$DT" se "$T/c" $((3 * 32768 + 503)) 13
reads "SEsparse" "$T/c/se.vmdk" "$T/c/expected.raw"
if qemu-img info "$T/c/se.vmdk" >"$T/info.txt" 2>&1 &&
   grep -q "backing file: .*base.vmdk" "$T/info.txt"; then
  ok "qemu-img sees the SEsparse delta's parent"
else bad "qemu-img info of the SEsparse delta"; fi
rm -rf "$T/c"

echo "# 2. streamOptimized written sequentially through VixDiskLib_Write"
for spec in "300007 21" "65536 22" "1 23" "700000 24"; do
  set -- $spec
  d=$T/s$2.vmdk
  "$DT" stream "$d" $1 $2
  if qemu-img compare -q -f vmdk -F raw "$d" "$d.raw"; then
    ok "stream of $1 sectors: qemu-img compare"
  else bad "stream of $1 sectors: qemu-img compare"; fi
  if qemu-img check -q -f vmdk "$d"; then ok "stream of $1 sectors: qemu-img check"
  else bad "stream of $1 sectors: qemu-img check"; fi
  reads "stream of $1 sectors" "$d" "$d.raw"
  if command -v vmdkinfo >/dev/null; then
    if vmdkinfo "$d" >"$T/info.txt" 2>&1 && grep -q "Stream optimized" "$T/info.txt"; then
      ok "stream of $1 sectors opens in vmdkinfo"
    else bad "stream of $1 sectors: vmdkinfo"; fi
  fi
  rm -f "$d" "$d.raw"
done

echo "# $fails failure(s)"
[ $fails = 0 ]
