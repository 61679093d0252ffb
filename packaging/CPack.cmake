# Binary packages of an install tree (included at the end of CMakeLists.txt):
#   cmake --build build && cd build && cpack -G DEB     # or -G TGZ
# One package holds everything `cmake --install` puts in place: the imapkeep
# tool, the static libraries, their headers and the CMake package config.
set(CPACK_PACKAGE_NAME imapkeep)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "IMAP mailbox backup tool and C++ IMAP client library")
set(CPACK_PACKAGE_VENDOR imapkeep)
set(CPACK_PACKAGE_CONTACT "imapkeep maintainers")
set(CPACK_RESOURCE_FILE_README ${CMAKE_CURRENT_SOURCE_DIR}/README.md)
set(CPACK_GENERATOR TGZ)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Strips the tool only; install(TARGETS) never strips static libraries.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
# Run-time dependencies of the tool, from dpkg-shlibdeps (dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Linking the static libraries needs their dependencies' development files.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libssl-dev, libssh2-1-dev, zlib1g-dev")

include(CPack)
