#!/bin/bash
# backup_bench.sh -- freevix backup against the simulator, next to curl and
# a govmomi download of the same bytes, in the same run (docs/performance.md,
# "Backups").
#
# Usage: bench/backup_bench.sh BUILD_DIR [WORK_DIR]
# BUILD_DIR holds cli/freevix, sim/freevix-sim and bench/govmomi_download
# (cmake --build BUILD_DIR --target freevix freevix-sim bench_govmomi_download).
#
#  1. A VM with two 2 GiB disks (--disk-size 2GiB --disks-per-vm 2; the
#     simulator fills 3/8 of the 1 MiB regions and the first and last), CBT
#     on, powered off so /folder serves its flat extents:
#       freevix backup (full, default transport, then --transport https),
#       curl fetching the same allocated ranges (one process, one
#       connection, a ranged GET per range), govmomi's Datastore.Download
#       of the same ranges;
#     wall time, bytes the simulator sent (folder_bytes + nfc.bytes_read),
#     client CPU (user + system) and peak RSS from /usr/bin/time.
#  2. 1 % of each disk's 64 KiB blocks rewritten by the guest, then
#     freevix backup --incremental: bytes read against the changed bytes,
#     wall time against the full.
#  2b. freevix restore --vm of the full point into the same VM, with and
#     without the read back: wall time, bytes written over NFC.
#  3. 100 VMs of one 64 MiB disk, freevix backup --jobs 4 (and --jobs 1):
#     VMs per minute.
set -euo pipefail
B=$(cd "${1:?build dir}" && pwd)
W=${2:-${TMPDIR:-/tmp}}/fvx-backup-bench.$$
FV=$B/cli/freevix
SIM=$B/sim/freevix-sim
PEER=$B/bench/govmomi_download
for x in "$FV" "$SIM" "$PEER"; do
  [ -x "$x" ] || { echo "missing $x (build the targets first)" >&2; exit 2; }
done
mkdir -p "$W"
SIMPID=
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
export FREEVIX_PASSWORD=freevix FREEVIX_STATE_DIR=$W/state LANG=C

# The first occurrence of a JSON field (the shapes of sim/README.md).
field() { grep -o "\"$1\":\"\{0,1\}[^\",}]*" | head -1 | sed 's/^"[^"]*":"\{0,1\}//'; }

start_sim() {
  local out=$W/sim.out
  rm -f "$out"
  "$SIM" --state-dir "$W/simstate" --parent-pid $$ "$@" >"$out" 2>"$W/sim.err" &
  SIMPID=$!
  for _ in $(seq 600); do [ -s "$out" ] && break; sleep 0.1; done
  PORT=$(field port <"$out")
  TP=$(field thumbprint_sha1 <"$out")
  ADMIN=$(field admin <"$out")
  SDK=$(field sdk <"$out")
  CONN=(--server 127.0.0.1 --port "$PORT" --thumbprint "$TP" --user admin)
}
stop_sim() { kill "$SIMPID"; wait "$SIMPID" 2>/dev/null || true; SIMPID=; }
admin() { curl -sf -X "$1" "$ADMIN$2" ${3:+-d "$3"}; }
sent() {
  local s
  s=$(admin GET /stats)
  echo $(( $(echo "$s" | grep -o '"folder_bytes":[0-9]*' | head -1 | cut -d: -f2) +
           $(echo "$s" | grep -o '"bytes_read":[0-9]*' | head -1 | cut -d: -f2) ))
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# Runs "$@" under /usr/bin/time: sets WALL (s), CPU (s), RSS (MiB), SENT.
measure() {
  admin POST /stats/reset >/dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$@" >"$W/run.out" 2>"$W/run.err" ||
    { cat "$W/run.err" >&2; exit 1; }
  read -r WALL U S M <"$W/time"
  CPU=$(awk -v u="$U" -v s="$S" 'BEGIN { printf "%.2f", u + s }')
  RSS=$(awk -v m="$M" 'BEGIN { printf "%.1f", m / 1024 }')
  SENT=$(sent)
}
row() { printf '| %s | %s s | %s | %s s | %s MiB |\n' "$1" "$WALL" "$(mib "$SENT")" "$CPU" "$RSS"; }

echo "# 1. a VM with two 2 GiB disks"
start_sim --vms 2 --disk-size 2GiB --disks-per-vm 2
VM=$(admin GET /vms | grep -o '"moref":"vm-[0-9]*"' | head -1 | cut -d'"' -f4)
"$PEER" -url "$SDK" -scenario poweroff -vm "$VM" >/dev/null
# The simulator writes a disk's data when it is first touched: do it now.
for k in 2000 2001; do admin GET "/disk/sha256?vm=$VM&disk=$k&snapshot=" >/dev/null; done
# CBT on (the first backup applies it), so the second is a measured full
# whose snapshot carries changeIds.
"$FV" backup "${CONN[@]}" --vm "moref=$VM" --to "$W/warm" --enable-cbt --incremental \
  >"$W/warm.out" 2>&1 || { cat "$W/warm.out" >&2; exit 1; }
rm -rf "$W/warm"

# The allocated ranges of both flat extents, for curl and govmomi.
: >"$W/ranges"
: >"$W/curl.cfg"
alloc=0
for k in 2000 2001; do
  a=$(admin GET "/disk/allocated?vm=$VM&disk=$k&snapshot=")
  file=$(echo "$a" | sed -n 's/.*"file":"\[\([^]]*\)\] \([^"]*\)\.vmdk".*/\1 \2-flat.vmdk/p')
  ds=${file%% *}
  path=${file#* }
  for r in $(echo "$a" | grep -o '"offset":[0-9]*,"length":[0-9]*' |
             sed 's/"offset":\([0-9]*\),"length":\([0-9]*\)/\1:\2/'); do
    off=${r%%:*}
    len=${r##*:}
    alloc=$((alloc + len))
    echo "$ds $path $off $len" >>"$W/ranges"
    [ -s "$W/curl.cfg" ] && echo next >>"$W/curl.cfg"
    # (next resets the options: each transfer names its own.)
    printf 'url = "https://127.0.0.1:%s/folder/%s?dcPath=DC0&dsName=%s"\nrange = "%s-%s"\noutput = "/dev/null"\ninsecure\nuser = "admin:freevix"\nfail\nsilent\n' \
      "$PORT" "$path" "$ds" "$off" "$((off + len - 1))" >>"$W/curl.cfg"
  done
done
echo "allocated: $(mib $alloc) of 4096.0 MiB in $(wc -l <"$W/ranges") ranges"

echo "| client | wall | bytes sent by the server | client CPU | peak RSS |"
echo "|---|---|---|---|---|"
measure "$FV" backup "${CONN[@]}" --vm "moref=$VM" --to "$W/repo"
FULL_WALL=$WALL
row "freevix backup (full, $(grep -o 'over [a-z]*' "$W/run.out" | head -1))"
measure "$FV" backup "${CONN[@]}" --vm "moref=$VM" --to "$W/repo-https" --transport https
row "freevix backup (full, --transport https)"
rm -rf "$W/repo-https"
# The same into memory, where local writes cost little: what the backup's
# own work (reads, SHA-256 of all 4 GiB, VMDK writes) costs without the disk.
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt 3000000 ]; then
  shm=$(mktemp -d /dev/shm/fvx-bench.XXXXXX)
  measure "$FV" backup "${CONN[@]}" --vm "moref=$VM" --to "$shm"
  row "freevix backup (full, $(grep -o 'over [a-z]*' "$W/run.out" | head -1), into tmpfs)"
  rm -rf "$shm"
fi
measure curl --config "$W/curl.cfg"
row "curl, the same ranges (one process)"
measure "$PEER" -url "$SDK" -scenario download -ranges "$W/ranges"
row "govmomi Datastore.Download, the same ranges"

echo "# 2. 1 % of the 64 KiB blocks rewritten, then an incremental"
changed=0
for k in 2000 2001; do
  for b in $(awk -v k="$k" 'BEGIN { srand(k); for (i = 0; i < 328; i++) print int(rand() * 32768) }' | sort -un); do
    admin POST /guest/write "{\"vm\":\"$VM\",\"disk\":$k,\"offset\":$((b * 65536)),\"length\":65536,\"seed\":$b}" >/dev/null
    changed=$((changed + 65536))
  done
done
measure "$FV" backup "${CONN[@]}" --vm "moref=$VM" --to "$W/repo" --incremental
grep -q "(incremental)" "$W/run.out" || { cat "$W/run.out" "$W/run.err"; exit 1; }
row "freevix backup --incremental"
awk -v s="$SENT" -v c="$changed" -v w="$WALL" -v f="$FULL_WALL" 'BEGIN {
  printf "changed %.1f MiB, read %.1f MiB: ratio %.3f; wall %.2f s = %.1f %% of the full\n",
         c / 1048576, s / 1048576, s / c, w, 100 * w / f }'

echo "# 2b. point 1 (the full) restored into the powered-off VM over NFC"
echo "| restore | wall | bytes written to the server | client CPU | peak RSS |"
echo "|---|---|---|---|---|"
vmdir=$(ls -d "$W/repo"/*/ | head -1)
for verify in "" --no-verify; do
  measure "$FV" restore "$vmdir" --point 1 "${CONN[@]}" --vm "moref=$VM" $verify
  grep -q "restored into" "$W/run.out" || { cat "$W/run.out" "$W/run.err"; exit 1; }
  SENT=$(admin GET /stats | grep -o '"bytes_written":[0-9]*' | head -1 | cut -d: -f2)
  row "freevix restore --vm ($(grep -o 'over [a-z]*' "$W/run.out" | head -1)${verify:+, $verify})"
done
stop_sim
rm -rf "$W/repo" "$W/simstate" "$W/state"

echo "# 3. 100 VMs of one 64 MiB disk"
start_sim --vms 100
admin GET /vms | grep -o '"moref":"vm-[0-9]*"' | cut -d'"' -f4 | sed 's/^/moref=/' >"$W/vms"
for vm in $(sed 's/moref=//' "$W/vms"); do
  admin GET "/disk/sha256?vm=$vm&disk=2000&snapshot=" >/dev/null
done
for jobs in 1 4; do
  measure "$FV" backup "${CONN[@]}" --vm-file "$W/vms" --to "$W/many-$jobs" --jobs "$jobs"
  n=$(grep -c "(full)" "$W/run.out")
  awk -v n="$n" -v w="$WALL" -v j="$jobs" -v c="$CPU" -v r="$RSS" -v s="$SENT" 'BEGIN {
    printf "--jobs %d: %d VMs in %.1f s = %.0f VMs/minute (%.1f MiB sent, client CPU %.1f s, peak RSS %.1f MiB)\n",
           j, n, w, n * 60 / w, s / 1048576, c, r }'
  rm -rf "$W/many-$jobs"
done
stop_sim
