# The Debian package (`./build.sh deb`, or `cpack -G DEB` in a tree
# configured with -DCMAKE_INSTALL_PREFIX=/usr): the library, headers and
# pkg-config file, the freevix command and its man page, the systemd units,
# the documentation, and a VDDK-shaped directory for nbdkit's vddk plugin
# (`nbdkit vddk libdir=/usr/lib/x86_64-linux-gnu/freevix/vddk ...`: the
# plugin loads <libdir>/lib64/libvixDiskLib.so.N).  One package, Debian 12
# (bookworm).

set(FVX_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})

# systemd units, under the prefix: /usr/lib/systemd/system, which systemd
# reads on Debian 12 as well as /lib/systemd/system.
install(FILES ${FVX_PKG_DIR}/systemd/freevix-backup@.service
              ${FVX_PKG_DIR}/systemd/freevix-backup@.timer
              ${FVX_PKG_DIR}/systemd/freevix-sweep@.service
              ${FVX_PKG_DIR}/systemd/freevix-sweep@.timer
        DESTINATION lib/systemd/system)
install(FILES ${FVX_PKG_DIR}/example.conf ${FVX_PKG_DIR}/example.vms
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/cli.md
              ${PROJECT_SOURCE_DIR}/docs/backup.md
              ${PROJECT_SOURCE_DIR}/docs/api-status.md
              ${PROJECT_SOURCE_DIR}/docs/errors.md
              ${PROJECT_SOURCE_DIR}/docs/config.md
              ${FVX_PKG_DIR}/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# nbdkit's vddk plugin wants a VDDK tree: <libdir>/lib64/libvixDiskLib.so.8.
# Relative links into the real library, so the tree works in any root.
file(RELATIVE_PATH fvx_vddk_to_lib
     /${CMAKE_INSTALL_LIBDIR}/freevix/vddk/lib64 /${CMAKE_INSTALL_LIBDIR})
string(REGEX REPLACE "/$" "" fvx_vddk_to_lib "${fvx_vddk_to_lib}")
set(fvx_vddk_tree ${PROJECT_BINARY_DIR}/vddk-tree/lib64)
file(MAKE_DIRECTORY ${fvx_vddk_tree})
foreach(name libvixDiskLib.so.${PROJECT_VERSION_MAJOR} libvixDiskLib.so)
  file(CREATE_LINK ${fvx_vddk_to_lib}/libvixDiskLib.so.${PROJECT_VERSION_MAJOR}
       ${fvx_vddk_tree}/${name} SYMBOLIC)
endforeach()
install(DIRECTORY ${PROJECT_BINARY_DIR}/vddk-tree/lib64
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/freevix/vddk)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME freevix)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "freevix maintainers <freevix@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "open, ABI-compatible VMware VixDiskLib (VDDK) and a backup command")
set(CPACK_PACKAGE_DESCRIPTION
    "freevix is a drop-in libvixDiskLib.so.8: PrepareForAccess/EndAccess,
connections, local VMDK I/O and remote disk reads over NFC (nbd, nbdssl)
and the datastore HTTPS interface.  The freevix command prepares and ends
access, sweeps after crashed backups, and backs up VMs (full and
incremental with Changed Block Tracking) into local VMDKs that qemu-img
reads.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/freevix/freevix")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${FVX_PKG_DIR}/debian/postinst
                                       ${FVX_PKG_DIR}/debian/postrm
                                       ${FVX_PKG_DIR}/debian/triggers)
set(CPACK_STRIP_FILES ON)
include(CPack)
