# Segment changes to NATS JetStream from the outside (protocol/publisher/publisher.md, "JetStream"):
# a real nats-server -js on 127.0.0.1 with its store in the test's folder, segmentd run with the
# built-in simulator, the stream read with our own client of the NATS protocol (nats_client.py).
# Skipped when nats-server is not installed.
if(TARGET segmentd)
  add_test(NAME integration/jetstream_changes_stream
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/jetstream_test.py --segmentd $<TARGET_FILE:segmentd>
            --work ${CMAKE_CURRENT_BINARY_DIR}/jetstream)
  set_tests_properties(integration/jetstream_changes_stream PROPERTIES LABELS "integration" TIMEOUT 300 COST 100
    SKIP_REGULAR_EXPRESSION "SEGMENTD_SKIP:")
endif()
