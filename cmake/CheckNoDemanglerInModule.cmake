# Fails when the module MODULE (a statically linked plugin) carries the C++
# demangler (`__cxa_demangle`): libstdc++'s verbose terminate handler brings
# it in, with 3 KB of relocated pointer tables that every process loading
# the module copies (plugin/runtime/terminate_handler.cpp replaces that
# handler; docs/benchmarks.md, issue 13, "Session 14: the plugin's load
# cost").  Usage: cmake -DMODULE=path -DNM=nm -P this
cmake_minimum_required(VERSION 3.16)
if(NOT EXISTS "${MODULE}")
  message(FATAL_ERROR "no such module: ${MODULE}")
endif()
execute_process(COMMAND "${NM}" "${MODULE}" OUTPUT_VARIABLE _symbols
                RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0 OR _symbols STREQUAL "")
  message(FATAL_ERROR "cannot list the symbols of ${MODULE} (${_rc}): ${_err}")
endif()
if(_symbols MATCHES "[ \n]__cxa_demangle\n")
  message(FATAL_ERROR "${MODULE}: carries the C++ demangler (__cxa_demangle)")
endif()
message(STATUS "${MODULE}: no demangler")
