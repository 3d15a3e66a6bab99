# Publisher and admin API: the real servers in a harness process, driven by Python clients
# (Debian's python3-websockets, importable only by the system interpreter /usr/bin/python3).
add_executable(publisher_harness ${CMAKE_CURRENT_LIST_DIR}/publisher_harness.cpp)
target_link_libraries(publisher_harness PRIVATE segmentd_service)
set_target_properties(publisher_harness PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

set(SEGMENTD_SYSTEM_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with python3-websockets (Debian's)")
set(publisher_cases
  test_snapshot_then_changes
  test_resume_no_gap_no_duplicate
  test_resume_beyond_ring_gets_snapshot
  test_slow_consumer_closed_fast_keeps_up
  test_auth_missing_or_wrong_token_401
  test_malformed_subscribe_error_frame_connection_stays
  test_filters
  test_a_regime_change_is_sequenced_and_switches_the_policies
  test_batch_mode
  test_batch_frames_are_the_shared_messages_joined
  test_limits
  test_schemas_validate_real_output
  test_admin_server_http_layer
  test_tls
  test_resume_larger_than_the_queue_limit_is_streamed
  test_burst_larger_than_the_queue_limit_reaches_a_reading_subscriber
  test_silent_sockets_lock_out_neither_subscribers_nor_health
  test_failed_logins_and_slow_consumer_closes_are_logged)
# These also run under the tsan preset (label "tsan"): the harness's io threads, the flush timer,
# the publishing thread and snapshots race there if anywhere. A race report makes the harness exit
# non-zero (TSAN_OPTIONS halt_on_error=1), which the test asserts at stop.
set(publisher_tsan_cases
  test_snapshot_then_changes
  test_resume_no_gap_no_duplicate
  test_filters
  test_a_regime_change_is_sequenced_and_switches_the_policies
  test_batch_mode
  test_batch_frames_are_the_shared_messages_joined
  test_admin_server_http_layer
  test_tls
  test_resume_larger_than_the_queue_limit_is_streamed
  test_burst_larger_than_the_queue_limit_reaches_a_reading_subscriber
  test_silent_sockets_lock_out_neither_subscribers_nor_health)
foreach(case ${publisher_cases})
  add_test(NAME integration/publisher/${case}
    COMMAND ${SEGMENTD_SYSTEM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/publisher_test.py
            --harness $<TARGET_FILE:publisher_harness>
            --schemas ${PROJECT_SOURCE_DIR}/protocol/publisher/schemas
            ${case})
  set(labels "integration")
  if(case IN_LIST publisher_tsan_cases)
    list(APPEND labels "tsan")
  endif()
  set_tests_properties(integration/publisher/${case} PROPERTIES LABELS "${labels}" TIMEOUT 300)
endforeach()
