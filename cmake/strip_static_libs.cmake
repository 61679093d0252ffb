# install(SCRIPT) step of the dev component: with `cmake --install --strip`
# or cpack (CPACK_STRIP_FILES), drops the debug sections of the installed
# static libraries, as Debian's -dev packages do (install(TARGETS) strips
# executables only). Expects IMAPKEEP_STATIC_LIBDIR (relative to the prefix)
# and IMAPKEEP_STRIP (the strip program).
if(CMAKE_INSTALL_DO_STRIP AND IMAPKEEP_STRIP)
  file(GLOB _imapkeep_archives
    "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${IMAPKEEP_STATIC_LIBDIR}/libimapkeep_*.a")
  foreach(_archive IN LISTS _imapkeep_archives)
    execute_process(COMMAND "${IMAPKEEP_STRIP}" --strip-debug "${_archive}"
      RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "strip --strip-debug ${_archive} failed")
    endif()
  endforeach()
endif()
