# FindLibSSH2: libssh2 as the imported target LibSSH2::LibSSH2.
#
# libssh2 ships a pkg-config file but (Debian 12, libssh2 1.10) no CMake
# package config. The build uses this module, and installs it next to
# imapkeepConfig.cmake, so that find_package(imapkeep) finds libssh2 the same
# way: pkg-config gives hints when it is there, find_path/find_library decide,
# so a project without pkg-config finds it too.
# Sets LibSSH2_FOUND, LibSSH2_VERSION, LibSSH2_INCLUDE_DIR, LibSSH2_LIBRARY.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_LIBSSH2 QUIET libssh2)
endif()
find_path(LibSSH2_INCLUDE_DIR libssh2.h HINTS ${PC_LIBSSH2_INCLUDE_DIRS})
find_library(LibSSH2_LIBRARY NAMES ssh2 libssh2 HINTS ${PC_LIBSSH2_LIBRARY_DIRS})

if(LibSSH2_INCLUDE_DIR AND EXISTS "${LibSSH2_INCLUDE_DIR}/libssh2.h")
  # #define LIBSSH2_VERSION "1.10.0"
  file(STRINGS "${LibSSH2_INCLUDE_DIR}/libssh2.h" _libssh2_version_line
    REGEX "^#define[ \t]+LIBSSH2_VERSION[ \t]+\"[^\"]*\"")
  string(REGEX REPLACE ".*\"([^\"]*)\".*" "\\1" LibSSH2_VERSION "${_libssh2_version_line}")
  unset(_libssh2_version_line)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibSSH2
  REQUIRED_VARS LibSSH2_LIBRARY LibSSH2_INCLUDE_DIR
  VERSION_VAR LibSSH2_VERSION)
mark_as_advanced(LibSSH2_INCLUDE_DIR LibSSH2_LIBRARY)

if(LibSSH2_FOUND AND NOT TARGET LibSSH2::LibSSH2)
  add_library(LibSSH2::LibSSH2 UNKNOWN IMPORTED)
  set_target_properties(LibSSH2::LibSSH2 PROPERTIES
    IMPORTED_LOCATION "${LibSSH2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LibSSH2_INCLUDE_DIR}")
endif()
