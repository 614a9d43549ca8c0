# Dovecot has no pkg-config file and no CMake package, only the shell fragment
# dovecot-config (dovecot-dev).  Source it in sh and read the variables back.
# Result: DOVECOT_INCLUDE_DIR, DOVECOT_MODULEDIR, DOVECOT_PKGLIBDIR,
# DOVECOT_ABI_VERSION (e.g. 2.3.ABIv19(2.3.19.1)), DOVECOT_VERSION, and the
# interface target Dref::DovecotHeaders for glue code.
set(DOVECOT_CONFIG "/usr/lib/dovecot/dovecot-config" CACHE FILEPATH "Path to dovecot-config")
if(NOT EXISTS "${DOVECOT_CONFIG}")
  message(FATAL_ERROR "${DOVECOT_CONFIG} not found: install dovecot-dev "
                      "(Debian: apt-get install dovecot-dev) or set -DDOVECOT_CONFIG=/path/to/dovecot-config, "
                      "or configure with -DDREF_BUILD_PLUGINS=OFF to build only the libraries and tools")
endif()
find_program(DREF_SH sh REQUIRED)
foreach(var LIBDOVECOT_INCLUDE dovecot_moduledir dovecot_pkglibdir DOVECOT_VERSION)
  execute_process(COMMAND ${DREF_SH} -c ". '${DOVECOT_CONFIG}' && printf %s \"$${var}\""
                  OUTPUT_VARIABLE _dref_${var} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "could not read ${var} from ${DOVECOT_CONFIG}")
  endif()
endforeach()
string(REGEX REPLACE "^-I" "" DOVECOT_INCLUDE_DIR "${_dref_LIBDOVECOT_INCLUDE}")
set(DOVECOT_MODULEDIR "${_dref_dovecot_moduledir}")
set(DOVECOT_PKGLIBDIR "${_dref_dovecot_pkglibdir}")
if(NOT EXISTS "${DOVECOT_INCLUDE_DIR}/config.h")
  message(FATAL_ERROR "Dovecot headers not found in ${DOVECOT_INCLUDE_DIR}: install dovecot-dev")
endif()
file(STRINGS "${DOVECOT_INCLUDE_DIR}/config.h" _abi REGEX "^#define DOVECOT_ABI_VERSION ")
string(REGEX REPLACE "^#define DOVECOT_ABI_VERSION \"([^\"]*)\".*" "\\1" DOVECOT_ABI_VERSION "${_abi}")
file(STRINGS "${DOVECOT_INCLUDE_DIR}/config.h" _ver REGEX "^#define DOVECOT_VERSION ")
string(REGEX REPLACE "^#define DOVECOT_VERSION \"([^\"]*)\".*" "\\1" DOVECOT_VERSION "${_ver}")
message(STATUS "Dovecot ${DOVECOT_VERSION}, ABI ${DOVECOT_ABI_VERSION}, modules in ${DOVECOT_MODULEDIR}")

add_library(Dref::DovecotHeaders INTERFACE IMPORTED)
target_include_directories(Dref::DovecotHeaders SYSTEM INTERFACE ${DOVECOT_INCLUDE_DIR})
target_compile_definitions(Dref::DovecotHeaders INTERFACE HAVE_CONFIG_H)

# Install destinations relative to the prefix (CPack/RPM would otherwise mark
# every absolute destination as a config file).
file(RELATIVE_PATH DOVECOT_MODULEDIR_REL "${CMAKE_INSTALL_PREFIX}" "${DOVECOT_MODULEDIR}")

# Only the loader's entry points are exported (cmake/dovecot_plugin_exports.map).
set(DREF_PLUGIN_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/dovecot_plugin_exports.map)

# dref_add_dovecot_plugin(<target> <output-name> SOURCES ...): a MODULE library
# whose file name decides Dovecot's module name (lib95_x_plugin.so -> x).
function(dref_add_dovecot_plugin target output_name)
  cmake_parse_arguments(P "" "" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME ${output_name}
                        CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE Dref::DovecotHeaders)
  target_link_options(${target} PRIVATE "LINKER:--version-script=${DREF_PLUGIN_EXPORTS_MAP}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${DREF_PLUGIN_EXPORTS_MAP})
  dref_target_warnings(${target})
endfunction()
