# Dovecot has no pkg-config file and no CMake package, only the shell fragment
# dovecot-config (dovecot-dev).  Source it in sh and read the variables back.
# Result: DOVECOT_INCLUDE_DIR, DOVECOT_MODULEDIR, DOVECOT_PKGLIBDIR,
# DOVECOT_ABI_VERSION (e.g. 2.3.ABIv19(2.3.19.1)), DOVECOT_VERSION,
# DREF_DOVECOT_MAJOR_MINOR ("2.3" or "2.4": the only versions the glue
# supports), DREF_DOVECOT_SETTINGS_MODULEDIR (2.4 only: where config loads
# settings modules from), and the interface target Dref::DovecotHeaders for
# glue code.  C++ code tells the versions apart with Dovecot's own
# DOVECOT_PREREQ(); this file only decides which targets exist.
set(DOVECOT_CONFIG "/usr/lib/dovecot/dovecot-config" CACHE FILEPATH "Path to dovecot-config")
if(NOT EXISTS "${DOVECOT_CONFIG}")
  message(FATAL_ERROR "${DOVECOT_CONFIG} not found: install dovecot-dev "
                      "(Debian: apt-get install dovecot-dev) or set -DDOVECOT_CONFIG=/path/to/dovecot-config, "
                      "or configure with -DDREF_BUILD_PLUGINS=OFF to build only the libraries and tools")
endif()
find_program(DREF_SH sh REQUIRED)
foreach(var LIBDOVECOT_INCLUDE dovecot_moduledir dovecot_pkglibdir dovecot_pkglibexecdir DOVECOT_VERSION)
  execute_process(COMMAND ${DREF_SH} -c ". '${DOVECOT_CONFIG}' && printf %s \"$${var}\""
                  OUTPUT_VARIABLE _dref_${var} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "could not read ${var} from ${DOVECOT_CONFIG}")
  endif()
endforeach()
string(REGEX REPLACE "^-I" "" DOVECOT_INCLUDE_DIR "${_dref_LIBDOVECOT_INCLUDE}")
set(DOVECOT_MODULEDIR "${_dref_dovecot_moduledir}")
set(DOVECOT_PKGLIBDIR "${_dref_dovecot_pkglibdir}")
# Where master looks for a service's relative `executable` (libexec_dir).
set(DOVECOT_PKGLIBEXECDIR "${_dref_dovecot_pkglibexecdir}")
if(NOT EXISTS "${DOVECOT_INCLUDE_DIR}/config.h")
  message(FATAL_ERROR "Dovecot headers not found in ${DOVECOT_INCLUDE_DIR}: install dovecot-dev")
endif()
file(STRINGS "${DOVECOT_INCLUDE_DIR}/config.h" _abi REGEX "^#define DOVECOT_ABI_VERSION ")
string(REGEX REPLACE "^#define DOVECOT_ABI_VERSION \"([^\"]*)\".*" "\\1" DOVECOT_ABI_VERSION "${_abi}")
file(STRINGS "${DOVECOT_INCLUDE_DIR}/config.h" _ver REGEX "^#define DOVECOT_VERSION ")
string(REGEX REPLACE "^#define DOVECOT_VERSION \"([^\"]*)\".*" "\\1" DOVECOT_VERSION "${_ver}")
# DOVECOT_VERSION carries Debian's revision on 2.4 ("2.4.1-4"), so read only
# the leading major.minor.
if(NOT DOVECOT_VERSION MATCHES "^([0-9]+)\\.([0-9]+)")
  message(FATAL_ERROR "cannot read the Dovecot version from ${DOVECOT_INCLUDE_DIR}/config.h")
endif()
set(DREF_DOVECOT_MAJOR_MINOR "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
if(NOT DREF_DOVECOT_MAJOR_MINOR STREQUAL "2.3" AND NOT DREF_DOVECOT_MAJOR_MINOR STREQUAL "2.4")
  message(FATAL_ERROR "Dovecot ${DOVECOT_VERSION} is not supported: the plugins build against 2.3 "
                      "(tested with 2.3.19.1) and 2.4 (tested with 2.4.1)")
endif()
# 2.4 reads typed settings only from settings modules in <moduledir>/settings
# (config-parser.c, CONFIG_MODULE_DIR); 2.3 has no such directory.
if(DREF_DOVECOT_MAJOR_MINOR STREQUAL "2.4")
  set(DREF_DOVECOT_SETTINGS_MODULEDIR "${DOVECOT_MODULEDIR}/settings")
else()
  unset(DREF_DOVECOT_SETTINGS_MODULEDIR)
endif()
message(STATUS "Dovecot ${DOVECOT_VERSION} (${DREF_DOVECOT_MAJOR_MINOR}), ABI ${DOVECOT_ABI_VERSION}, "
               "modules in ${DOVECOT_MODULEDIR}")

add_library(Dref::DovecotHeaders INTERFACE IMPORTED)
target_include_directories(Dref::DovecotHeaders SYSTEM INTERFACE ${DOVECOT_INCLUDE_DIR})
target_compile_definitions(Dref::DovecotHeaders INTERFACE HAVE_CONFIG_H)

# Install destinations relative to the prefix (CPack/RPM would otherwise mark
# every absolute destination as a config file).
file(RELATIVE_PATH DOVECOT_MODULEDIR_REL "${CMAKE_INSTALL_PREFIX}" "${DOVECOT_MODULEDIR}")

# Only the loader's entry points are exported (cmake/dovecot_plugin_exports.map).
set(DREF_PLUGIN_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/dovecot_plugin_exports.map)

# dref_add_dovecot_plugin(<target> <output-name> SOURCES ... [EXPORTS_MAP <file>]):
# a MODULE library whose file name decides Dovecot's module name
# (lib95_x_plugin.so -> x).  EXPORTS_MAP replaces the default version script
# for a module whose loader reads other symbols (the 2.4 settings module's
# <name>_set_infos).
function(dref_add_dovecot_plugin target output_name)
  cmake_parse_arguments(P "" "EXPORTS_MAP" "SOURCES" ${ARGN})
  if(NOT P_EXPORTS_MAP)
    set(P_EXPORTS_MAP ${DREF_PLUGIN_EXPORTS_MAP})
  endif()
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME ${output_name}
                        CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE Dref::DovecotHeaders)
  target_link_options(${target} PRIVATE "LINKER:--version-script=${P_EXPORTS_MAP}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${P_EXPORTS_MAP})
  dref_target_warnings(${target})
endfunction()
