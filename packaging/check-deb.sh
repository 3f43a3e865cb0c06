#!/bin/sh
# check-deb.sh DEB -- installs the freevix package into a temporary root
# with dpkg (no chroot: maintainer scripts run with DPKG_ROOT set), checks
# that what it installs is complete and usable -- the command runs, a VDDK
# program builds with pkg-config and runs, nbdkit's vddk plugin would find
# the library under libdir=.../freevix/vddk, the systemd units verify --
# then removes and purges it and checks that nothing is left.  Touches
# nothing outside the temporary root.  Exit 0 when all is well.
set -eu
deb=$(readlink -f "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(mktemp -d "${TMPDIR:-/tmp}/freevix-deb-XXXXXX")
trap 'rm -rf "$root"' EXIT
LANG=C
export LANG
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
lib=$root/usr/lib/$multiarch

say() { echo "check-deb: $*"; }
die() { echo "check-deb: FAILED: $*" >&2; exit 1; }

mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" \
         "$root/var/lib/dpkg/triggers"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
dpkg() { command dpkg --root="$root" --log=/dev/null \
                 --force-script-chrootless --force-depends "$@"; }

say "installing $(basename "$deb") into $root (its dependencies are this"
say "machine's libraries, not in the root: --force-depends)"
dpkg -i "$deb" >"$root/dpkg.log" 2>&1 || { cat "$root/dpkg.log"; die "dpkg -i"; }
dpkg -s freevix | grep -q '^Status: install ok installed' ||
  die "dpkg does not list freevix as installed"

for f in usr/bin/freevix usr/include/vixDiskLib.h usr/include/freevix.h \
         "usr/lib/$multiarch/libvixDiskLib.so.8.0.0" \
         "usr/lib/$multiarch/pkgconfig/vixDiskLib.pc" \
         usr/share/man/man1/freevix.1 usr/share/doc/freevix/backup.md \
         usr/share/doc/freevix/copyright \
         usr/lib/systemd/system/freevix-backup@.service \
         usr/lib/systemd/system/freevix-backup@.timer \
         usr/lib/systemd/system/freevix-sweep@.service \
         usr/lib/systemd/system/freevix-sweep@.timer; do
  [ -e "$root/$f" ] || die "missing /$f"
done
[ "$(readlink "$lib/libvixDiskLib.so.8")" = libvixDiskLib.so.8.0.0 ] ||
  die "libvixDiskLib.so.8 does not point at .so.8.0.0"
soname=$(objdump -p "$lib/libvixDiskLib.so.8.0.0" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libvixDiskLib.so.8 ] || die "SONAME is '$soname'"
say "files, links and SONAME ok"

# The ldconfig trigger's work, done on the temporary root's library dir.
ldconfig -n -N "$lib" || die "ldconfig refuses $lib"

LD_LIBRARY_PATH=$lib "$root/usr/bin/freevix" --version | grep -q '^freevix 8' ||
  die "freevix --version"
LD_LIBRARY_PATH=$lib "$root/usr/bin/freevix" backup --help | grep -q -- '--incremental' ||
  die "freevix backup --help"
say "the command runs"

cc=${CC:-cc}
PKG_CONFIG_PATH=$lib/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
"$cc" -o "$root/vddk_program" "$here/tests/abi/vddk_program.c" \
  $(pkg-config --cflags --libs vixDiskLib) || die "building a VDDK program"
LD_LIBRARY_PATH=$lib "$root/vddk_program" >/dev/null || die "running it"
say "a program built with pkg-config --cflags --libs vixDiskLib runs"

# nbdkit's vddk plugin: dlopen(<libdir>/lib64/libvixDiskLib.so.N), then
# the symbols it requires.
vddk=$lib/freevix/vddk
cat > "$root/nbdkit_like.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
  static const char *const need[] = {"VixDiskLib_InitEx", "VixDiskLib_Exit",
    "VixDiskLib_ConnectEx", "VixDiskLib_Open", "VixDiskLib_GetInfo",
    "VixDiskLib_FreeInfo", "VixDiskLib_GetTransportMode", "VixDiskLib_Close",
    "VixDiskLib_Read", "VixDiskLib_ReadAsync", "VixDiskLib_Write",
    "VixDiskLib_WriteAsync", "VixDiskLib_Flush", "VixDiskLib_Wait",
    "VixDiskLib_Disconnect", "VixDiskLib_GetErrorText",
    "VixDiskLib_FreeErrorText", "VixDiskLib_QueryAllocatedBlocks",
    "VixDiskLib_FreeBlockList", NULL};
  char path[4096];
  void *h;

  (void)argc;
  snprintf(path, sizeof path, "%s/lib64/libvixDiskLib.so.8", argv[1]);
  h = dlopen(path, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  for (int i = 0; need[i]; i++)
    if (!dlsym(h, need[i])) {
      fprintf(stderr, "no %s\n", need[i]);
      return 1;
    }
  return 0;
}
C
"$cc" -o "$root/nbdkit_like" "$root/nbdkit_like.c" -ldl || die "building the loader"
"$root/nbdkit_like" "$vddk" || die "libdir=$vddk does not load as nbdkit loads VDDK"
say "nbdkit vddk libdir=/usr/lib/$multiarch/freevix/vddk loads it"

if command -v systemd-analyze >/dev/null 2>&1; then
  for u in freevix-backup@x.service freevix-backup@x.timer \
           freevix-sweep@x.service freevix-sweep@x.timer; do
    # (The host has no /usr/bin/freevix and no man page: expected.)
    out=$(systemd-analyze verify \
          "$root/usr/lib/systemd/system/${u%@*}@.${u##*.}" 2>&1 |
          grep -v -e 'is not executable' -e "man freevix" || true)
    [ -z "$out" ] || die "systemd-analyze verify $u: $out"
  done
  say "systemd units verify"
fi

dpkg -r freevix >/dev/null
left=$( [ ! -d "$root/usr" ] || find "$root/usr" -type f -o -type l)
[ -z "$left" ] || die "left after remove: $left"
dpkg --purge freevix >/dev/null
dpkg -s freevix >/dev/null 2>&1 && die "dpkg still knows freevix"
left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o \( -type f -o -type l \) -print |
       grep -v -e '^./vddk_program$' -e '^./nbdkit_like' -e '^./dpkg.log$' || true)
[ -z "$left" ] || die "left after purge: $left"
say "removed and purged cleanly"
