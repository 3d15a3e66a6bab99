# Fills from NATS JetStream (kind = "nats", service/ingest/nats_source.h) from the outside: a real
# nats-server -js on 127.0.0.1 with its store in the test's folder, fills published with our own
# client of the NATS protocol (nats_client.py); a run that never stops against one that is killed,
# restarted and sees nats-server restart; bad messages; fillsim --nats. Skipped when nats-server is
# not installed.
if(TARGET segmentd AND TARGET fillsim)
  add_test(NAME integration/nats_source_fills_stream
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/nats_source_test.py --segmentd $<TARGET_FILE:segmentd>
            --fillsim $<TARGET_FILE:fillsim> --work ${CMAKE_CURRENT_BINARY_DIR}/nats_source)
  set_tests_properties(integration/nats_source_fills_stream PROPERTIES LABELS "integration" TIMEOUT 300 COST 100
    SKIP_REGULAR_EXPRESSION "SEGMENTD_SKIP:")
endif()
