#!/bin/bash
# disk_bench.sh -- freevix vs qemu on the same 4 GiB monolithicSparse disk.
#
# Usage: bench/disk_bench.sh BUILD_DIR [WORK_DIR]
# Creates (with freevix's disk_tool) a 4 GiB monolithicSparse disk with
# pseudo-random data in half of its 64 KiB grains (written in disk order, so
# grains lie in the file in order), then, page cache warm, times:
#   sequential read: freevix disk_read alloc (QueryAllocatedBlocks, then
#                    1 MiB reads of the allocated ranges, as backup tools
#                    and qemu-img do) and seq (every sector, holes as
#                    zero-filled buffers) vs
#                    qemu-img convert into qemu's null-co driver (discards)
#   4 KiB random reads: freevix disk_read rand vs qemu-io reading the same
#                    offsets (commands on stdin)
# and reports peak RSS from /usr/bin/time -v (or GNU time's %M).  Removes the
# disk afterwards.
set -euo pipefail
B=${1:?build dir}
W=${2:-${TMPDIR:-/tmp}}/fvx-bench.$$
TOOL=$B/tests/disk/disk_tool
READ=$B/bench/disk_read
N=20000
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
D=$W/bench.vmdk
echo "# creating 4 GiB monolithicSparse, half the grains filled"
"$TOOL" create 1 "$D" $((4 * 1024 * 1024 * 2))
"$TOOL" fill "$D" 42 50
ls -l "$D"
cat "$D" >/dev/null # warm the page cache
rss() { /usr/bin/time -f '%e s, maxrss %M KiB' "$@"; }

echo "# sequential read (page cache warm), best of 3"
for i in 1 2 3; do
  rss "$READ" "$D" alloc 2>&1 | grep -v initialized | tr '\n' ' '; echo
done
for i in 1 2 3; do
  rss "$READ" "$D" seq 2>&1 | grep -v initialized | tr '\n' ' '; echo
done
for i in 1 2 3; do
  echo -n "qemu-img convert: "
  rss qemu-img convert -n -f vmdk "$D" \
    --target-image-opts driver=null-co,size=$((4 << 30)) 2>&1 | tr '\n' ' '
  echo
done

echo "# $N random 4 KiB reads"
rss "$READ" "$D" rand $N 7 2>&1 | grep -v initialized | tr '\n' ' '; echo
# the same offsets for qemu-io: same xorshift sequence
python3 - "$N" $((4 * 1024 * 1024 * 2)) >"$W/cmds" <<'PY'
import sys
n, cap = int(sys.argv[1]), int(sys.argv[2])
rs = 7
M = (1 << 64) - 1
for _ in range(n):
    rs ^= (rs << 13) & M; rs ^= rs >> 7; rs ^= (rs << 17) & M
    print("read -q %d 4k" % ((rs % (cap // 8)) * 8 * 512))
PY
echo -n "qemu-io: "
rss qemu-io -r -f vmdk "$D" <"$W/cmds" 2>&1 >/dev/null | tr '\n' ' '
echo
