# Runs PROBE (tests/unit/runtime/terminate_probe.cpp), whose exception
# escapes main: our terminate handler must name the exception's type
# (mangled) on stderr and abort.  Usage: cmake -DPROBE=path -P this
cmake_minimum_required(VERSION 3.16)
execute_process(COMMAND "${PROBE}" RESULT_VARIABLE _rc ERROR_VARIABLE _err
                OUTPUT_VARIABLE _out)
if(_rc EQUAL 0)
  message(FATAL_ERROR "the probe exited normally; expected an abort")
endif()
set(_want "dovecot-referral: terminate called after an uncaught exception of type St13runtime_error\n")
if(NOT _err STREQUAL _want)
  message(FATAL_ERROR "stderr was '${_err}', expected '${_want}' (exit: ${_rc})")
endif()
message(STATUS "terminate handler: ${_err} (exit: ${_rc})")
