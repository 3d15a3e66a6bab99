# The cap on accounts of a real segmentd (`segmentd run` with a replay source, [shards]
# max_accounts = 10 over 2 shards): refusals in /metrics, refused accounts 404 on /v1/accounts
# (issue 17 item 7).
add_test(NAME integration/account_cap/test_a_capped_service_refuses_new_accounts
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/account_cap_test.py
          --segmentd $<TARGET_FILE:segmentd>
          test_a_capped_service_refuses_new_accounts)
set_tests_properties(integration/account_cap/test_a_capped_service_refuses_new_accounts PROPERTIES
  LABELS "integration" TIMEOUT 300)
