# Real Hyperliquid fills (../shared/data/real, not in the repository) converted by
# tools/hl_csv_to_native/hl_csv_to_native.py, replayed by segmentd at a 1 h and a 720 h half-life, and every
# feature compared with an independent Python computation from core/features.md; positions
# against the venue's Start Position column where the export's fills explain them, and, with the
# venue's positions as native position records (--positions), for every account (issue 20 items 3
# and 7). Skipped (SEGMENTD_SKIP) when the file is absent.
add_test(NAME integration/real_data/hyperliquid_features_equal_an_independent_computation
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/real_data_hl_test.py
          --segmentd $<TARGET_FILE:segmentd>
          --tool ${PROJECT_SOURCE_DIR}/tools/hl_csv_to_native/hl_csv_to_native.py
          --shared-dir ${SEGMENTD_SHARED_DIR})
set_tests_properties(integration/real_data/hyperliquid_features_equal_an_independent_computation PROPERTIES
  LABELS "integration" TIMEOUT 900 SKIP_REGULAR_EXPRESSION "SEGMENTD_SKIP:")
