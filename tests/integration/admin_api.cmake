# The admin API of a real segmentd (`segmentd run` with an ingest source the test feeds, on
# 127.0.0.1): /readyz, /v1/segments, /v1/accounts/{id} and /metrics from the pipeline's own
# handlers. (publisher_test.py's test_admin_server_http_layer covers the AdminServer's HTTP layer
# with scripted handlers.)
add_test(NAME integration/admin_api/test_admin_api_of_a_running_pipeline
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_admin_api_of_a_running_pipeline)
set_tests_properties(integration/admin_api/test_admin_api_of_a_running_pipeline PROPERTIES
  LABELS "integration" TIMEOUT 300)

# Hardening (issue 17, item 1): fills stamped far in the future on an ingest feed are refused,
# counted and logged, and the model goes on.
add_test(NAME integration/admin_api/test_future_timestamps_do_not_stop_the_model
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_future_timestamps_do_not_stop_the_model)
set_tests_properties(integration/admin_api/test_future_timestamps_do_not_stop_the_model PROPERTIES
  LABELS "integration" TIMEOUT 300)

# Market data (issue 20, item 4): native price records on an ingest feed price the markouts.
add_test(NAME integration/admin_api/test_price_records_on_an_ingest_feed_price_the_markouts
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_price_records_on_an_ingest_feed_price_the_markouts)
set_tests_properties(integration/admin_api/test_price_records_on_an_ingest_feed_price_the_markouts PROPERTIES
  LABELS "integration" TIMEOUT 300)

# The console (issue 21): login form and session cookie, the page's headers, /v1/overview and
# /v1/map against the feed, the publisher's websocket with the session, logout.
add_test(NAME integration/admin_api/test_console_login_views_and_feed
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_console_login_views_and_feed)
set_tests_properties(integration/admin_api/test_console_login_views_and_feed PROPERTIES
  LABELS "integration" TIMEOUT 300)

# Segment exposure (issue 22, item 1): /v1/risk/exposure and its metrics against an independent
# computation from the fed fills (delta-one and Black-76 deltas, vega, concentration).
add_test(NAME integration/admin_api/test_segment_exposure_of_a_running_pipeline
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_segment_exposure_of_a_running_pipeline)
set_tests_properties(integration/admin_api/test_segment_exposure_of_a_running_pipeline PROPERTIES
  LABELS "integration" TIMEOUT 300)

# Shock scenarios (issue 22, item 2): /v1/risk/scenarios and its metrics against an independent
# Black-76 and delta-one revaluation of the fed positions, with the margin test per account.
add_test(NAME integration/admin_api/test_shock_scenarios_of_a_running_pipeline
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_shock_scenarios_of_a_running_pipeline)
set_tests_properties(integration/admin_api/test_shock_scenarios_of_a_running_pipeline PROPERTIES
  LABELS "integration" TIMEOUT 300)

# The simulator's market crashes (issue 22, item 5): the regime switches and back, and the
# publisher's stream carries the regime changes and the policies following them.
add_test(NAME integration/admin_api/test_a_simulated_crash_switches_the_regime_and_the_policies
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_a_simulated_crash_switches_the_regime_and_the_policies)
# RUN_SERIAL: it keeps both cores busy for its half minute (the simulator at 3,000 fills/s and
# segmentd), which would starve the timing of a test beside it (a heartbeat interval).
set_tests_properties(integration/admin_api/test_a_simulated_crash_switches_the_regime_and_the_policies PROPERTIES
  LABELS "integration" TIMEOUT 300 RUN_SERIAL TRUE)

# The market regime (issue 22, item 3): index prices on a feed switch it in a crash.
add_test(NAME integration/admin_api/test_a_crash_in_the_index_switches_the_market_regime
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/admin_api_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_a_crash_in_the_index_switches_the_market_regime)
set_tests_properties(integration/admin_api/test_a_crash_in_the_index_switches_the_market_regime PROPERTIES
  LABELS "integration" TIMEOUT 300)
