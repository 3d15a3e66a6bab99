# Observability and deployment checks.
# Static checks of deploy/: promtool (rules, rule unit tests, scrape config), dashboard rows,
# the systemd unit, the container config, the files the Dockerfile copies.
add_test(NAME integration/deploy_check
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_deploy.sh ${PROJECT_SOURCE_DIR} $<TARGET_FILE:segmentd>)
set_tests_properties(integration/deploy_check PROPERTIES LABELS "integration" SKIP_RETURN_CODE 77)

# A real Prometheus scrapes a running segmentd (`segmentd run` on its built-in simulator) once it
# has a model: every series the dashboard and the alert rules query must exist, the ones a working
# pipeline moves must have moved, the exposition passes promtool's lint, and every expression
# evaluates.
add_test(NAME integration/prometheus_scrape_segmentd
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/prometheus_scrape_test.py
          --source-dir ${PROJECT_SOURCE_DIR} --work-dir ${CMAKE_CURRENT_BINARY_DIR}/prometheus_scrape_segmentd
          -- bash ${CMAKE_CURRENT_LIST_DIR}/segmentd_on_port.sh $<TARGET_FILE:segmentd> {port})
set_tests_properties(integration/prometheus_scrape_segmentd PROPERTIES LABELS "integration" SKIP_RETURN_CODE 77 TIMEOUT 180)
