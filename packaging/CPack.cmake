# Two Debian packages from the install components of CMakeLists.txt:
#   imapkeep         (component tool) the backup tool: binary, man pages,
#                    completions, systemd units, README and config example
#   libimapkeep-dev  (component dev)  the IMAP client library: static
#                    libraries, headers, CMake package config, imapkeep.pc
# Build them with `bash scripts/package.sh [BUILD_DIR]`: it configures with
# the /usr prefix, builds what the packages hold and runs `cpack -G DEB`; the
# .deb files land in BUILD_DIR/packages/. (`cpack -G TGZ` gives tarballs.)
set(CPACK_PACKAGE_NAME imapkeep)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPackDeb would put it above each
# component's own summary line (CPACK_DEBIAN_<COMPONENT>_DESCRIPTION).
set(CPACK_PACKAGE_VENDOR imapkeep)
set(CPACK_PACKAGE_CONTACT "imapkeep maintainers <maintainers@users.noreply.r-seed-3d6609dc.example>")
set(CPACK_RESOURCE_FILE_README ${CMAKE_CURRENT_SOURCE_DIR}/README.md)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# DESTDIR staging: install scripts then see CMAKE_INSTALL_PREFIX=/usr (what
# imapkeep.pc must say), not the staging directory.
set(CPACK_SET_DESTDIR ON)
# Strips the tool only; install(TARGETS) never strips static libraries.
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL tool dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})

set(CPACK_DEBIAN_TOOL_PACKAGE_NAME imapkeep)
set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION mail)
# Run-time dependencies of the binary, from dpkg-shlibdeps (dpkg-dev), plus
# the two libraries it loads on first use (dlopen), which shlibdeps cannot see:
# libcurl for OAuth2 and S3, libpq for a PostgreSQL catalog.
set(CPACK_DEBIAN_TOOL_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_TOOL_PACKAGE_DEPENDS "libcurl4 (>= 7.88), libpq5")
set(CPACK_DEBIAN_TOOL_DESCRIPTION "IMAP mailbox backup tool
imapkeep backs up every mailbox of the configured IMAP accounts into a
local store, a SQLite catalog plus a Maildir++ tree that Dovecot, mutt and
notmuch open as it is. After the first run each run costs what changed. It
is crash-safe, only reads the server, keeps what the server expunged,
remembers flag history, exports mbox, Maildir or .eml archives, and restores
to any IMAP server with APPEND. It reaches servers over TLS, STARTTLS, a
local command or SSH. Ships systemd units for hourly backups
(imapkeep-backup@NAME.timer, system and user), man pages and bash, zsh and
fish completions.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libimapkeep-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The static libraries link these; their headers are not needed by ours, but
# the CMake config and imapkeep.pc find them.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libssl-dev (>= 3.0), libssh2-1-dev, zlib1g-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "cmake, pkg-config")
set(CPACK_DEBIAN_DEV_DESCRIPTION "C++20 IMAP client library with Python imaplib's API
The imaplib face of imapkeep: IMAP4, IMAP4_SSL, IMAP4_stream and IMAP4_ssh,
one method per IMAP command returning (type, data), over a typed, pipelined
client (TLS with OpenSSL, SSH with libssh2, COMPRESS=DEFLATE). Static
libraries and headers; find_package(imapkeep) gives imapkeep::imapkeep, and
pkg-config imapkeep the compiler and linker flags.")

# Debian policy wants /usr/share/doc/PACKAGE/changelog.Debian.gz in every
# package; one entry for this build (its date honours SOURCE_DATE_EPOCH).
string(TIMESTAMP IMAPKEEP_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(IMAPKEEP_DEB_VERSION ${CPACK_PACKAGE_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE})
foreach(_component TOOL DEV)
  set(IMAPKEEP_DEB_PACKAGE ${CPACK_DEBIAN_${_component}_PACKAGE_NAME})
  set(_changelog ${CMAKE_CURRENT_BINARY_DIR}/debian/${IMAPKEEP_DEB_PACKAGE}/changelog.Debian)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/changelog.Debian.in ${_changelog} @ONLY)
  execute_process(COMMAND gzip -9nf ${_changelog} RESULT_VARIABLE _gzip_rc)
  if(NOT _gzip_rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_changelog} failed")
  endif()
  string(TOLOWER ${_component} _component_name)
  install(FILES ${_changelog}.gz DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${IMAPKEEP_DEB_PACKAGE}
    COMPONENT ${_component_name})
endforeach()

include(CPack)
