#!/bin/bash
# interop_qemu.sh -- freevix's VMDK code against two independent
# implementations: qemu-img (qemu-utils) and libvmdk's vmdkinfo.
#
#  1. every subformat qemu-img writes, from a raw image with random data and
#     holes (5 GiB virtual, so twoGbMaxExtent* have three extents), reads
#     bit-exact through freevix;
#  2. every type freevix creates and writes (incl. a child chain, a vmfs
#     descriptor and streamOptimized made by Clone) passes qemu-img check
#     where qemu checks the format, reads bit-exact through qemu-img, and
#     opens in vmdkinfo where libvmdk supports the format;
#  3. child chains, 4. grow;
#  5. Defragment and Shrink (freevix's monolithicSparse and a three-extent
#     twoGbMaxExtentSparse, and qemu-img's own monolithicSparse layout): the
#     data stays bit-exact through freevix and qemu-img, qemu-img check and
#     vmdkinfo pass, Shrink makes the files smaller, no temporary file stays.
# Usage: interop_qemu.sh /path/to/disk_tool
set -euo pipefail
export LANG=C
TOOL=$1
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/fvx-interop-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# same FILE1 FILE2: compare two raw images (holes skipped via block status)
same() { qemu-img compare -q -f raw -F raw "$1" "$2"; }

# Reference raw image: 5 GiB, random 1 MiB pieces at scattered offsets
# (crossing the 2 GiB extent boundaries), the rest holes.
RAW=$T/ref.raw
truncate -s 5G "$RAW"
for mb in 0 1 7 300 2047 2048 2049 4095 4096 5119; do
  dd if=/dev/urandom of="$RAW" bs=1M seek=$mb count=1 conv=notrunc status=none
done
dd if=/dev/urandom of="$RAW" bs=512 seek=12345 count=3 conv=notrunc status=none

echo "# 1. qemu-img writes, freevix reads"
for fmt in monolithicSparse monolithicFlat twoGbMaxExtentSparse \
           twoGbMaxExtentFlat streamOptimized; do
  rm -rf "$T/q" && mkdir "$T/q"
  qemu-img convert -q -f raw -O vmdk -o subformat=$fmt "$RAW" "$T/q/d.vmdk"
  if "$TOOL" dump "$T/q/d.vmdk" "$T/out.raw" && same "$RAW" "$T/out.raw"; then
    ok "qemu $fmt reads bit-exact"
  else
    bad "qemu $fmt"
  fi
  if [ $fmt = monolithicSparse ]; then
    # qemu-img leaves a "\n" after the embedded descriptor's NUL when its
    # random CID has fewer than 8 hex digits: such disks must open too.
    len=$(dd if="$T/q/d.vmdk" bs=512 skip=1 count=20 status=none | tr -d '\0' | wc -c)
    printf '\n' | dd of="$T/q/d.vmdk" bs=1 seek=$((512 + len + 1)) conv=notrunc status=none
    if "$TOOL" dump "$T/q/d.vmdk" "$T/out.raw" && same "$RAW" "$T/out.raw"; then
      ok "qemu monolithicSparse with a newline after the descriptor's NUL"
    else
      bad "qemu monolithicSparse with a newline after the descriptor's NUL"
    fi
  fi
done
rm -rf "$T/q" "$T/out.raw"

echo "# 2. freevix writes, qemu-img and vmdkinfo read"
names=(x monolithicSparse monolithicFlat twoGbMaxExtentSparse
       twoGbMaxExtentFlat vmfs streamOptimized)
SECT=$((4608 * 2048)) # 4.5 GiB: three split extents
for type in 1 2 3 4 5 6; do
  rm -rf "$T/f" && mkdir "$T/f"
  d=$T/f/d.vmdk
  if [ $type = 6 ]; then
    "$TOOL" create 1 "$T/f/src.vmdk" $((64 * 2048))
    "$TOOL" fill "$T/f/src.vmdk" 6 30
    "$TOOL" clone "$T/f/src.vmdk" "$d" 6
  else
    "$TOOL" create $type "$d" $SECT
    # fill a few hundred blocks only: 4.5 GiB with 0.3% of the 64 KiB blocks
    "$TOOL" fill "$d" $type 0
    "$TOOL" fill "$d" $((type + 10)) 1 >/dev/null
  fi
  "$TOOL" dump "$d" "$T/ours.raw"
  qemu-img convert -q -f vmdk -O raw "$d" "$T/qemu.raw"
  if same "$T/ours.raw" "$T/qemu.raw"; then
    ok "${names[$type]} reads bit-exact through qemu-img"
  else
    bad "${names[$type]} differs through qemu-img"
  fi
  case $type in
  1|3|6)
    if qemu-img check -q -f vmdk "$d"; then ok "${names[$type]} qemu-img check"
    else bad "${names[$type]} qemu-img check"; fi ;;
  esac
  if command -v vmdkinfo >/dev/null; then
    if vmdkinfo "$d" >"$T/info.txt" 2>&1; then
      ok "${names[$type]} opens in vmdkinfo"
    elif [ $type = 5 ]; then
      ok "${names[$type]}: vmdkinfo does not support vmfs descriptors (skipped)"
    else
      bad "${names[$type]} vmdkinfo: $(tail -1 "$T/info.txt")"
    fi
  fi
  rm -f "$T/ours.raw" "$T/qemu.raw"
done

echo "# 3. a child chain written by freevix"
rm -rf "$T/c" && mkdir "$T/c"
"$TOOL" create 1 "$T/c/base.vmdk" $((128 * 2048))
"$TOOL" fill "$T/c/base.vmdk" 1 40
"$TOOL" child "$T/c/base.vmdk" "$T/c/child.vmdk"
"$TOOL" fill "$T/c/child.vmdk" 2 20
"$TOOL" dump "$T/c/child.vmdk" "$T/ours.raw"
qemu-img convert -q -f vmdk -O raw "$T/c/child.vmdk" "$T/qemu.raw"
if same "$T/ours.raw" "$T/qemu.raw"; then ok "child chain reads bit-exact through qemu-img"
else bad "child chain differs"; fi
if qemu-img check -q -f vmdk "$T/c/child.vmdk"; then ok "child qemu-img check"
else bad "child qemu-img check"; fi
# a child made by qemu-img over our base reads the same through freevix
qemu-img create -q -f vmdk -b "$T/c/base.vmdk" -F vmdk "$T/c/qchild.vmdk"
qemu-io -f vmdk -c "write -P 0x5a 1M 300k" "$T/c/qchild.vmdk" >/dev/null
"$TOOL" dump "$T/c/qchild.vmdk" "$T/ours.raw"
qemu-img convert -q -f vmdk -O raw "$T/c/qchild.vmdk" "$T/qemu.raw"
if same "$T/ours.raw" "$T/qemu.raw"; then ok "qemu-made child over freevix base reads bit-exact"
else bad "qemu child differs"; fi

echo "# 4. grow"
"$TOOL" grow "$T/c/base.vmdk" $((300 * 2048))
"$TOOL" fill "$T/c/base.vmdk" 9 5
# the base changed: its child's parentCID no longer matches
if "$TOOL" dump "$T/c/child.vmdk" "$T/ours.raw" 2>/dev/null; then
  bad "child of a changed parent opened"
else ok "child of a changed parent refused (CID mismatch)"; fi
"$TOOL" dump "$T/c/base.vmdk" "$T/ours.raw"
qemu-img convert -q -f vmdk -O raw "$T/c/base.vmdk" "$T/qemu.raw"
if same "$T/ours.raw" "$T/qemu.raw" && qemu-img check -q -f vmdk "$T/c/base.vmdk"; then
  ok "grown monolithicSparse reads bit-exact and checks"
else bad "grown monolithicSparse"; fi
vmdkinfo "$T/c/base.vmdk" >/dev/null 2>&1 && ok "grown disk opens in vmdkinfo" || bad "grown vmdkinfo"

echo "# 5. defragment and shrink"
# total bytes of the .vmdk files in a directory
size() { stat -c %s "$1"/*.vmdk | awk '{s += $1} END {print s}'; }
# rewritten DIR LABEL REF: DIR/d.vmdk still holds REF and passes the checks
rewritten() {
  local d=$1/d.vmdk
  "$TOOL" dump "$d" "$T/ours.raw"
  qemu-img convert -q -f vmdk -O raw "$d" "$T/qemu.raw"
  if same "$3" "$T/ours.raw" && same "$3" "$T/qemu.raw"; then
    ok "$2 reads bit-exact through freevix and qemu-img"
  else bad "$2 data differs"; fi
  if qemu-img check -q -f vmdk "$d"; then ok "$2 qemu-img check"
  else bad "$2 qemu-img check"; fi
  if command -v vmdkinfo >/dev/null; then
    vmdkinfo "$d" >/dev/null 2>&1 && ok "$2 opens in vmdkinfo" || bad "$2 vmdkinfo"
  fi
  if ls "$1" | grep -q fvxtmp; then bad "$2 left a temporary file"; fi
  rm -f "$T/ours.raw" "$T/qemu.raw"
}
# compact DIR LABEL: defragment, then zero some grains and shrink
compact() {
  local d=$1/d.vmdk s0 s1 s2
  "$TOOL" dump "$d" "$T/before.raw"
  s0=$(size "$1")
  if "$TOOL" defrag "$d"; then ok "$2 defragmented"; else bad "$2 defragment"; fi
  rewritten "$1" "$2 defragmented" "$T/before.raw"
  s1=$(size "$1")
  [ "$s1" -le "$s0" ] && ok "$2 defragment: $s0 -> $s1 bytes" || bad "$2 grew: $s0 -> $s1"
  if "$TOOL" shrink "$d"; then ok "$2 shrunk"; else bad "$2 shrink"; fi
  rewritten "$1" "$2 shrunk" "$T/before.raw"
  s2=$(size "$1")
  [ "$s2" -lt "$s1" ] && ok "$2 shrink: $s1 -> $s2 bytes" || bad "$2 shrink: $s1 -> $s2"
  rm -f "$T/before.raw"
}
rm -rf "$T/s" && mkdir "$T/s"
"$TOOL" create 1 "$T/s/d.vmdk" $((256 * 2048))
"$TOOL" fill "$T/s/d.vmdk" 21 30
"$TOOL" zero "$T/s/d.vmdk" 0 $((16 * 2048))
compact "$T/s" "monolithicSparse"
rm -rf "$T/s" && mkdir "$T/s"
"$TOOL" create 3 "$T/s/d.vmdk" $SECT
"$TOOL" fill "$T/s/d.vmdk" 23 1
# zeros across the boundary of extents 1 and 2 (at 2047 MiB)
"$TOOL" zero "$T/s/d.vmdk" $((2045 * 2048)) $((4 * 2048))
compact "$T/s" "twoGbMaxExtentSparse"
rm -rf "$T/s" && mkdir "$T/s"
truncate -s 64M "$T/small.raw"
for mb in 0 3 17 40 63; do
  dd if=/dev/urandom of="$T/small.raw" bs=1M seek=$mb count=1 conv=notrunc status=none
done
qemu-img convert -q -f raw -O vmdk -o subformat=monolithicSparse "$T/small.raw" "$T/s/d.vmdk"
"$TOOL" zero "$T/s/d.vmdk" $((3 * 2048)) 2048
compact "$T/s" "qemu monolithicSparse"
# qemu can still write the rewritten file
if qemu-io -f vmdk -c "write -P 0x33 5M 200k" "$T/s/d.vmdk" >/dev/null &&
   qemu-img check -q -f vmdk "$T/s/d.vmdk"; then
  ok "qemu writes the shrunk file"
else bad "qemu write after shrink"; fi
rm -f "$T/small.raw"

echo "# $fails failure(s)"
[ $fails = 0 ]
