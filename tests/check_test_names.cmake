# Fails the build when a Catch2 test binary has a test case whose name ctest's discovery cannot
# turn into a filter that selects it: catch_discover_tests keeps names in a CMake list, which
# splits at ';', and each half then matches nothing. Run as a POST_BUILD step of each test binary:
#   cmake -DTEST_EXECUTABLE=<binary> -P check_test_names.cmake
execute_process(COMMAND "${TEST_EXECUTABLE}" --list-test-names-only
                OUTPUT_VARIABLE names RESULT_VARIABLE rc)
# Catch2 2.x exits with the number of test cases listed; anything else is a crash.
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${TEST_EXECUTABLE} --list-test-names-only failed: ${rc}")
endif()
string(REPLACE ";" "<semicolon>" names "${names}")
string(REPLACE "\n" ";" lines "${names}")
set(bad "")
foreach(line IN LISTS lines)
  if(line MATCHES "<semicolon>")
    string(REPLACE "<semicolon>" ";" line "${line}")
    string(APPEND bad "  ${line}\n")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "${TEST_EXECUTABLE}: these test cases never run under ctest (discovery splits a "
                      "name at ';' into filters that match nothing); rename them:\n${bad}")
endif()
