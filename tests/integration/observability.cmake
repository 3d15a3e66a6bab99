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

# A venue source's gap-fill from the outside: `segmentd run` against fillsim-venue (Deribit),
# a dropped connection, fills made while it is away and a REST history that fails every 2nd
# call; /metrics must show every fill exactly once and the gap-fill's runs, calls, records and
# errors by kind (issue 25: GapFillStats had no metric).
if(TARGET fillsim-venue)
  add_test(NAME integration/gap_fill_metrics
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/gap_fill_metrics_test.py
            --segmentd $<TARGET_FILE:segmentd> --fillsim-venue $<TARGET_FILE:fillsim-venue>)
  set_tests_properties(integration/gap_fill_metrics PROPERTIES LABELS "integration" TIMEOUT 300)
endif()
