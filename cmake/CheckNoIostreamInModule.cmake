# Fails when the module MODULE (a statically linked plugin) carries
# libstdc++'s iostream or locale code: `std::ios_base::Init` or the
# constructor of `std::locale`.  Either one means an iostream crept back
# in, and with it the global locale built in every process that loads the
# module (Dovecot's default mode: one imap process per session;
# docs/benchmarks.md, issue 13, "Session 13: where the 0-entry session
# start goes").  Usage: cmake -DMODULE=path -DNM=nm -P this
cmake_minimum_required(VERSION 3.16)
if(NOT EXISTS "${MODULE}")
  message(FATAL_ERROR "no such module: ${MODULE}")
endif()
execute_process(COMMAND "${NM}" -C "${MODULE}" OUTPUT_VARIABLE _symbols
                RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0 OR _symbols STREQUAL "")
  message(FATAL_ERROR "cannot list the symbols of ${MODULE} (${_rc}): ${_err}")
endif()
string(REGEX MATCHALL "[^\n]*(std::ios_base::Init|std::locale::locale\\()[^\n]*" _found "${_symbols}")
if(_found)
  list(LENGTH _found _n)
  list(GET _found 0 _first)
  message(FATAL_ERROR "${MODULE}: ${_n} iostream/locale symbols, e.g. ${_first}")
endif()
message(STATUS "${MODULE}: no iostream/locale code")
