#!/bin/sh
# build.sh -- the two commands of the README, on a fresh Debian 12 machine.
#
#   ./build.sh demo    install what is missing, build, run the demo against
#                      the simulator
#   ./build.sh test    install what is missing; build a second, small tree with
#                      gcc (Debian's default compiler: library, command, unit
#                      tests, -Werror) and run its unit tests, and the library
#                      and command with gcc at -O0 and -O3 (each level warns
#                      about other things); then build the
#                      main tree with clang and run every test (unit,
#                      integration against the simulator, ASan+UBSan and
#                      ThreadSanitizer twins, valgrind runs, the Go
#                      simulator's contract tests and the fuzz targets),
#                      ending with CTest's summary line
#   ./build.sh build   install what is missing and build only
#   ./build.sh deb     install what is missing, build the Debian package
#                      (build-deb/freevix_<version>_amd64.deb: library,
#                      headers, pkg-config file, freevix, man page, systemd
#                      units) and check it installs and removes cleanly in
#                      a temporary root (packaging/check-deb.sh)
#
# Runs as root (apt-get); elsewhere it uses sudo for the install step only.
# Set FREEVIX_BUILD_DIR to build somewhere other than ./build (the gcc tree
# goes to FREEVIX_GCC_BUILD_DIR, default ./build-gcc).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${FREEVIX_BUILD_DIR:-$here/build}
gcc_build=${FREEVIX_GCC_BUILD_DIR:-$here/build-gcc}

# Debian 12 packages the build and the tests need.
packages="cmake make pkg-config gcc clang libclang-rt-14-dev llvm-14
libcurl4-openssl-dev libxml2-dev libssl-dev zlib1g-dev libcmocka-dev
valgrind golang-go golang-github-vmware-govmomi-dev qemu-utils libvmdk-utils
ca-certificates dpkg-dev file"

install_missing() {
  missing=""
  for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
      missing="$missing $p"
    fi
  done
  [ -z "$missing" ] && return 0
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "build.sh: installing:$missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends $missing >/dev/null
}

# The gcc tree: what Debian's default compiler says about every C file
# (-Wall -Wextra -Werror, as in the main tree), and the unit tests built by
# it.  No simulator, sanitizer twins, valgrind runs or fuzz targets: the
# main tree has those.  Then the library and the command at the other
# optimisation levels a user may choose (CMake's Debug and Release): gcc's
# flow-based warnings differ between -O0, -O2 and -O3.
gcc_check() {
  cmake -S "$here" -B "$gcc_build" -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFREEVIX_SIM=OFF -DFREEVIX_FUZZ=OFF \
    -DFREEVIX_SANITIZED_TESTS=OFF -DFREEVIX_TSAN_TESTS=OFF \
    -DFREEVIX_VALGRIND_TESTS=OFF -DFREEVIX_WERROR=ON >/dev/null
  cmake --build "$gcc_build" -j "$(nproc)"
  (cd "$gcc_build" && ctest -L unit -LE interop -j "$(nproc)" \
     --output-on-failure)
  for type in Debug Release; do
    cmake -S "$here" -B "$gcc_build-$type" -DCMAKE_C_COMPILER=gcc \
      -DCMAKE_BUILD_TYPE=$type -DFREEVIX_SIM=OFF -DFREEVIX_TESTS=OFF \
      -DFREEVIX_WERROR=ON >/dev/null
    cmake --build "$gcc_build-$type" -j "$(nproc)"
  done
}

configure_and_build() {
  cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFREEVIX_WERROR=ON >/dev/null
  cmake --build "$build" -j "$(nproc)"
}

cmd=${1:-}
case "$cmd" in
demo)
  install_missing
  configure_and_build
  exec "$build/cli/freevix" demo --sim "$build/sim/freevix-sim"
  ;;
test)
  install_missing
  echo "build.sh: the gcc tree ($gcc_build)"
  gcc_check
  echo "build.sh: the main tree ($build)"
  configure_and_build
  cd "$build"
  exec ctest --output-on-failure -j "$(nproc)"
  ;;
build)
  install_missing
  configure_and_build
  ;;
deb)
  install_missing
  debdir=${FREEVIX_DEB_DIR:-$here/build-deb}
  cmake -S "$here" -B "$debdir" -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DFREEVIX_TESTS=OFF -DFREEVIX_SIM=OFF >/dev/null
  cmake --build "$debdir" -j "$(nproc)"
  (cd "$debdir" && rm -f freevix_*.deb && cpack -G DEB >/dev/null)
  deb=$(ls "$debdir"/freevix_*.deb)
  "$here/packaging/check-deb.sh" "$deb"
  echo "$deb"
  ;;
*)
  echo "usage: $0 demo|test|build|deb" >&2
  exit 2
  ;;
esac
