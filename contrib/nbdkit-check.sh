#!/bin/bash
# nbdkit-check.sh -- an optional developer check, never run by CTest: the
# real nbdkit vddk plugin loads freevix's libvixDiskLib.so.8 and serves
# simulator disks, as virt-v2v, forklift and CDI use it (docs/nbdkit.md).
#
# Usage: contrib/nbdkit-check.sh FREEVIX_BUILD NBDKIT_BUILD
#   FREEVIX_BUILD  a freevix build directory: lib/libvixDiskLib.so.8 and
#                  sim/freevix-sim (targets vixDiskLib and freevix-sim)
#   NBDKIT_BUILD   an nbdkit build tree with server/nbdkit and
#                  plugins/vddk/.libs/nbdkit-vddk-plugin.so (Debian 12 ships
#                  no vddk plugin; freevix neither ships nor builds nbdkit);
#                  with filters/retry built, the retry check runs too
# Environment: DISK_SIZE (default 262145KiB: 256 MiB + 1 KiB, not a whole
#   number of nbdkit's 64 KiB extent chunks), TRANSPORTS (the plugin's
#   transports=, default nbdssl:nbd as virt-v2v passes it; nbd checks the
#   plain NFC transport), KEEP=1 keeps the work directory with nbdkit's -v
#   logs.
# Needs nbdcopy and nbdinfo (libnbd-bin), jq, curl.
#
# Checks, each on a fresh nbdkit serving a private Unix socket (--run):
#   read   a snapshot of a running VM, read-only: nbdcopy's SHA-256 of the
#          whole export against the simulator's GET /disk/sha256
#   write  a powered-off VM, writable: nbdcopy --flush of an image into it,
#          then the simulator's SHA-256 and a read back against the image's
#   retry  the read again under nbdkit's retry filter with one injected NFC
#          error: the plugin is closed and reopened, the hash still equal
# Exit status: 0 all passed, 1 a check failed, 77 skipped (missing input).
set -uo pipefail

skip() { echo "nbdkit-check: SKIP: $*"; exit 77; }
die() { echo "nbdkit-check: FAIL: $*" >&2; exit 1; }

[ $# = 2 ] || { sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 2; }
FVX=$(realpath "$1") NBK=$(realpath "$2")
LIBDIR=$FVX/lib SIM=$FVX/sim/freevix-sim
NBDKIT=$NBK/server/nbdkit
PLUGIN=$NBK/plugins/vddk/.libs/nbdkit-vddk-plugin.so
RETRY=$NBK/filters/retry/.libs/nbdkit-retry-filter.so
DISK_SIZE=${DISK_SIZE:-262145KiB}
TRANSPORTS=${TRANSPORTS:-nbdssl:nbd}
[ -e "$LIBDIR/libvixDiskLib.so.8" ] || skip "no $LIBDIR/libvixDiskLib.so.8"
[ -x "$SIM" ] || skip "no $SIM"
if [ ! -x "$NBDKIT" ] || [ ! -f "$PLUGIN" ]; then
  skip "no nbdkit server and vddk plugin in $NBK"
fi
for t in nbdcopy nbdinfo jq curl sha256sum; do
  command -v "$t" >/dev/null || skip "$t is missing (apt-get install libnbd-bin jq curl)"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/nbdkit-check.XXXXXX")
SIM_PID=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  [ -z "$SIM_PID" ] || { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID"; }
  if [ "${KEEP:-0}" = 1 ]; then echo "nbdkit-check: logs in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# The simulator: SDK, admin and NFC on 127.0.0.1, random ports.
"$SIM" --vms 2 --disk-size "$DISK_SIZE" --parent-pid $$ >"$W/sim.json" 2>"$W/sim.err" &
SIM_PID=$!
for _ in $(seq 300); do
  [ -s "$W/sim.json" ] || ! kill -0 "$SIM_PID" 2>/dev/null && break
  sleep 0.1
done
[ -s "$W/sim.json" ] || die "the simulator did not start: $(cat "$W/sim.err")"
SDK=$(jq -r .sdk "$W/sim.json") ADMIN=$(jq -r .admin "$W/sim.json")
PORT=$(jq -r .port "$W/sim.json") TP=$(jq -r .thumbprint_sha1 "$W/sim.json")
(umask 077 && printf %s freevix >"$W/pw")

admin() { curl -sf "$ADMIN$1" "${@:2}"; }
# The operator's SOAP calls (the migration tool's part, not nbdkit's).
soap() {
  local out
  out=$(curl -sk -b "$W/cookies" -c "$W/cookies" -H 'Content-Type: text/xml' \
    -H 'SOAPAction: "urn:vim25/8.0"' --data-binary \
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>$1</soapenv:Body></soapenv:Envelope>" \
    "$SDK") || return 1
  case $out in *Fault*) echo "$out" >&2; return 1 ;; esac
  printf '%s' "$out"
}
# vm_task BODY: runs a task method, waits, prints the task's result moref.
vm_task() {
  local task out
  task=$(soap "$1" | sed -n 's/.*<returnval[^>]*>\([^<]*\)<.*/\1/p')
  [ -n "$task" ] || return 1
  for _ in $(seq 300); do
    out=$(soap "<RetrieveProperties xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">propertyCollector</_this><specSet><propSet><type>Task</type><pathSet>info.state</pathSet><pathSet>info.result</pathSet></propSet><objectSet><obj type=\"Task\">$task</obj></objectSet></specSet></RetrieveProperties>") || return 1
    case $out in
      *'>success<'*) sed -n 's/.*<name>info.result<\/name><val[^>]*>\([^<]*\)<.*/\1/p' <<<"$out"; return 0 ;;
      *'>error<'*) echo "$out" >&2; return 1 ;;
    esac
    sleep 0.1
  done
  return 1
}
soap '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>admin</userName><password>freevix</password></Login>' \
  >/dev/null || die "SOAP login failed"
mapfile -t VMS < <(admin /vms | jq -r '.[] | select(.power_state == "poweredOn") | .moref')
[ "${#VMS[@]}" = 2 ] || die "expected 2 running VMs, got ${#VMS[@]}"
RVM=${VMS[0]} WVM=${VMS[1]}

# serve LABEL CLIENT [NBDKIT-OPTIONS --] PLUGIN-PARAMS...: nbdkit -v serves
# the disk of the given parameters on a private Unix socket and runs CLIENT
# (a shell command, $uri its URI), then exits; its log in LABEL.log.
serve() {
  local label=$1 client=$2 opts=()
  shift 2
  if [[ " $* " == *" -- "* ]]; then
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
  fi
  "$NBDKIT" -v -U - "${opts[@]}" "$PLUGIN" libdir="$LIBDIR" server=127.0.0.1 \
    port="$PORT" user=admin password=+"$W/pw" thumbprint="$TP" \
    transports="$TRANSPORTS" "$@" --run "$client" 2>"$W/$label.log"
}
FAILED=0
result() {
  echo "nbdkit-check: $1: $2"
  [ "$1" = PASS ] || FAILED=1
}
# hash_check LABEL WANT: the client's size and hash files against WANT.
hash_check() {
  local got size
  got=$(cut -d' ' -f1 "$W/$1.sha" 2>/dev/null) size=$(cat "$W/$1.size" 2>/dev/null)
  if [ "$got" = "$2" ] && [ -n "$size" ]; then
    result PASS "$1: $size bytes, sha256 $got equal (transport $(sed -n 's/.*transport mode: //p' "$W/$1.log" | sort -u | paste -sd,))"
  else
    result FAIL "$1: sha256 '$got', want $2; see $W/$1.log (KEEP=1)"
  fi
}
# read_client LABEL: the client command reading the whole export into a
# file (nbdcopy then keeps several requests in flight; into a pipe it reads
# one at a time), its size to LABEL.size, its hash to LABEL.sha.
read_client() {
  echo "nbdinfo --size \"\$uri\" >$W/$1.size && nbdcopy \"\$uri\" $W/$1.img &&" \
    "sha256sum $W/$1.img >$W/$1.sha && rm $W/$1.img"
}

echo "nbdkit-check: $("$NBDKIT" --version) $PLUGIN, libdir=$LIBDIR, simulator $SDK"
"$NBDKIT" "$PLUGIN" libdir="$LIBDIR" --dump-plugin >"$W/dump.txt" 2>&1
if ! grep -qx vddk_library_version=8 "$W/dump.txt" ||
   ! grep -qx "vddk_dll=$(realpath "$LIBDIR/libvixDiskLib.so.8")" "$W/dump.txt"; then
  die "--dump-plugin did not load freevix: $(cat "$W/dump.txt")"
fi

# read: the migration tool snapshots the running VM, nbdkit reads the
# snapshot's disk.
SNAP=$(vm_task "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$RVM</_this><name>nbdkit-check</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>")
[ -n "$SNAP" ] || die "snapshot of $RVM failed"
admin "/disk/sha256?vm=$RVM&disk=2000&snapshot=$SNAP" >"$W/snap.json" || die "GET /disk/sha256 failed"
WANT=$(jq -r .sha256 "$W/snap.json") FILE=$(jq -r .file "$W/snap.json")
serve read "$(read_client read)" -r -- vm=moref="$RVM" \
  snapshot="$SNAP" file="$FILE"
hash_check read "$WANT"

# write: a powered-off VM, nbdkit without -r; an image with data and holes.
vm_task "<PowerOffVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$WVM</_this></PowerOffVM_Task>" \
  >/dev/null || die "power-off of $WVM failed"
WFILE=$(admin "/disk/sha256?vm=$WVM&disk=2000" | jq -r .file)
SIZE=$(admin "/disk/sha256?vm=$WVM&disk=2000" | jq -r .size)
truncate -s "$SIZE" "$W/image"
dd if=/dev/urandom of="$W/image" bs=1M count=5 conv=notrunc status=none
dd if=/dev/urandom of="$W/image" bs=1K seek=$((SIZE / 1024 - 3)) count=3 conv=notrunc status=none
IWANT=$(sha256sum "$W/image" | cut -d' ' -f1)
serve write "nbdcopy --flush $W/image \"\$uri\" && $(read_client write)" \
  -- vm=moref="$WVM" file="$WFILE"
hash_check write "$IWANT"
SIMSHA=$(admin "/disk/sha256?vm=$WVM&disk=2000" | jq -r .sha256)
if [ "$SIMSHA" = "$IWANT" ]; then
  result PASS "write: the simulator's sha256 of the disk equals the image's"
else
  result FAIL "write: the simulator's sha256 $SIMSHA, the image's $IWANT"
fi

# retry: one NFC ERROR on the next IO; the retry filter reopens the plugin.
if [ -f "$RETRY" ]; then
  serve retry "curl -sf -o /dev/null -X POST -d '{\"kind\":\"error\",\"code\":1}' $ADMIN/nfc/fault && $(read_client retry)" \
    -r --filter="$RETRY" -- retry-delay=1 vm=moref="$RVM" snapshot="$SNAP" \
    file="$FILE"
  hash_check retry "$WANT"
  opens=$(grep -c 'VDDK call: VixDiskLib_ConnectEx' "$W/retry.log")
  line=$(grep -m1 'injected' "$W/retry.log")
  if [ "$opens" -ge 2 ] && grep -q 'retry 1: waiting' "$W/retry.log" &&
     [[ $line == *"VixDiskLib_ReadAsync: "* ]]; then
    result PASS "retry: the plugin reopened ($opens ConnectEx); the error named ReadAsync: ${line#nbdkit: }"
  else
    result FAIL "retry: $opens ConnectEx, error line '$line'"
  fi
else
  echo "nbdkit-check: SKIP retry: no $RETRY"
fi
vm_task "<RemoveSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachineSnapshot\">$SNAP</_this><removeChildren>false</removeChildren></RemoveSnapshot_Task>" \
  >/dev/null || result FAIL "removing $SNAP failed"
exit "$FAILED"
