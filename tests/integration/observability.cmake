# Observability and deployment checks (issue 8).
# Every metric segmentd exports, from a registry fed by all probes; serves it over HTTP for the
# Prometheus scrape test.
add_executable(segmentd_metrics_catalog ${CMAKE_CURRENT_LIST_DIR}/metrics_catalog_main.cpp ${CMAKE_CURRENT_LIST_DIR}/metrics_catalog.cpp)
target_link_libraries(segmentd_metrics_catalog PRIVATE segmentd_service)

# Static checks of deploy/: promtool (rules, rule unit tests, scrape config, the exposition),
# metric names used by the dashboard and the rules, the systemd unit, the container config.
add_test(NAME integration/deploy_check
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_deploy.sh ${PROJECT_SOURCE_DIR}
          $<TARGET_FILE:segmentd_metrics_catalog> $<TARGET_FILE:segmentd>)
set_tests_properties(integration/deploy_check PROPERTIES LABELS "integration" SKIP_RETURN_CODE 77)

# A real Prometheus on loopback scrapes a real /metrics endpoint and answers a query; every
# dashboard and rule expression must evaluate without error against it.
add_test(NAME integration/prometheus_scrape
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/prometheus_scrape_test.py
          --source-dir ${PROJECT_SOURCE_DIR} --work-dir ${CMAKE_CURRENT_BINARY_DIR}/prometheus_scrape
          -- $<TARGET_FILE:segmentd_metrics_catalog> --serve --port-file {port_file})
set_tests_properties(integration/prometheus_scrape PROPERTIES LABELS "integration" SKIP_RETURN_CODE 77 TIMEOUT 120)

# The same, scraping segmentd itself (`segmentd run` on its built-in simulator): the metrics the
# live pipeline really exports, read back through Prometheus.
add_test(NAME integration/prometheus_scrape_segmentd
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/prometheus_scrape_test.py
          --source-dir ${PROJECT_SOURCE_DIR} --work-dir ${CMAKE_CURRENT_BINARY_DIR}/prometheus_scrape_segmentd
          --expect-model-version -1
          -- bash ${CMAKE_CURRENT_LIST_DIR}/segmentd_on_port.sh $<TARGET_FILE:segmentd> {port})
set_tests_properties(integration/prometheus_scrape_segmentd PROPERTIES LABELS "integration" SKIP_RETURN_CODE 77 TIMEOUT 120)
