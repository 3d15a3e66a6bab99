# The console in a real browser (issue 21, tests/console/README.md): headless Chromium through
# puppeteer-core against a running segmentd on the simulator. Screenshots of every view in
# build/<preset>/console_test/run/.
add_test(NAME integration/console/browser
  COMMAND ${PROJECT_SOURCE_DIR}/tests/console/run.sh $<TARGET_FILE:segmentd> ${CMAKE_BINARY_DIR}/console_test)
# COST: the longest entry of the release stage (35-50 s, a real browser); started first, beside
# the short ones, rather than in the stage's tail.
set_tests_properties(integration/console/browser PROPERTIES LABELS "integration;browser" TIMEOUT 300 COST 200)
