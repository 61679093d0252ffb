# install(SCRIPT) step: writes imapkeep.pc with the prefix of THIS install
# (cmake --install --prefix P, or /usr when cpack builds the .deb), which the
# configure-time CMAKE_INSTALL_PREFIX need not be. Expects IMAPKEEP_PC_TEMPLATE
# (the configured cmake/imapkeep.pc.in) and IMAPKEEP_PC_LIBDIR (relative).
file(READ "${IMAPKEEP_PC_TEMPLATE}" _pc)
string(REPLACE "@IMAPKEEP_PC_PREFIX@" "${CMAKE_INSTALL_PREFIX}" _pc "${_pc}")
get_filename_component(_pc_staging "${IMAPKEEP_PC_TEMPLATE}" DIRECTORY)
file(WRITE "${_pc_staging}/pc-install/imapkeep.pc" "${_pc}")
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/${IMAPKEEP_PC_LIBDIR}/pkgconfig"
  TYPE FILE FILES "${_pc_staging}/pc-install/imapkeep.pc")
