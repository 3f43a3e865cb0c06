#!/bin/sh
# build.sh -- the two commands of the README, on a fresh Debian 12 machine.
#
#   ./build.sh demo    install what is missing, build, run the demo against
#                      the simulator
#   ./build.sh test    install what is missing, build, run every test (unit,
#                      integration against the simulator, ASan+UBSan twins,
#                      valgrind runs, the Go simulator's contract tests and the
#                      fuzz targets) and print CTest's summary line
#   ./build.sh build   install what is missing and build only
#   ./build.sh deb     install what is missing, build the Debian package
#                      (build-deb/freevix_<version>_amd64.deb: library,
#                      headers, pkg-config file, freevix, man page, systemd
#                      units) and check it installs and removes cleanly in
#                      a temporary root (packaging/check-deb.sh)
#
# Runs as root (apt-get); elsewhere it uses sudo for the install step only.
# Set FREEVIX_BUILD_DIR to build somewhere other than ./build.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${FREEVIX_BUILD_DIR:-$here/build}

# Debian 12 packages the build and the tests need.
packages="cmake make pkg-config clang libclang-rt-14-dev llvm-14
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

configure_and_build() {
  cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
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
