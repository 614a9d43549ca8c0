# The C++ runtime inside the Dovecot plugins (login, imap and auth).
#
# Linked against the shared libstdc++, a module pulls in libstdc++.so, libm
# and libgcc_s: Dovecot's dlopen(RTLD_NOW) binds their ~4,000 symbol
# relocations in every process that loads it (4.4 million instructions per
# imap-login process in the default login mode, docs/login-plugin.md "Cost
# per login process"), and every call into the runtime goes through the PLT
# to code spread over a 2 MB library.  Linked statically, with unused
# sections dropped, a module carries only what it calls, next to its own
# code (the version script keeps every C++ symbol local); for the
# long-lived auth process, direct calls instead of the PLT on every login
# (docs/benchmarks.md, issue 13, "Session 12").
# The price: a libstdc++ fix reaches the modules only by a rebuild.
option(DREF_STATIC_CXX_RUNTIME
       "Link libstdc++ and libgcc statically into the Dovecot plugins" ON)
if(DREF_STATIC_CXX_RUNTIME)
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_LINK_OPTIONS -static-libstdc++ -static-libgcc)
  check_cxx_source_compiles("#include <string>\nint main(int c, char**) { return (int)std::to_string(c).size(); }"
                            DREF_HAVE_STATIC_LIBSTDCXX)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT DREF_HAVE_STATIC_LIBSTDCXX)
    message(WARNING "no static libstdc++ (libstdc++.a; RPM: libstdc++-static): the plugins "
                    "link the shared one and cost more per process and per login")
  endif()
endif()

get_filename_component(DREF_TERMINATE_HANDLER_SOURCE
                       ${CMAKE_CURRENT_LIST_DIR}/../plugin/runtime/terminate_handler.cpp ABSOLUTE)

# dref_link_static_cxx_runtime(<target>): the static runtime and
# --gc-sections for one plugin module (when the option is on and the archive
# exists).
function(dref_link_static_cxx_runtime target)
  if(DREF_STATIC_CXX_RUNTIME AND DREF_HAVE_STATIC_LIBSTDCXX)
    target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc
                        LINKER:--gc-sections LINKER:-O1 LINKER:--as-needed)
    # Our terminate handler instead of libstdc++'s verbose one, which would
    # bring the C++ demangler along (plugin/runtime/terminate_handler.cpp).
    target_sources(${target} PRIVATE ${DREF_TERMINATE_HANDLER_SOURCE})
  endif()
endfunction()
