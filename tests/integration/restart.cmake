# Durable state from the outside (core/checkpoint.md): a replay killed with SIGKILL at random points
# resumes to byte-identical output; corrupt, short, other-version and other-config checkpoints are
# refused by name (exit 2, or start-empty); the default run keeps its segments, each account's
# fills and the publisher's seq across SIGTERM and SIGKILL; an ingest feed's fills re-sent after a
# restart count once; a checkpoint of the build before the slow clock loads and goes on (upgrade).
# SEGMENTD_RESTART_KILLS sets the number
# of kill points of the replay test (CI: 4; the figure in bench/README.md was run with 24).
# Under the sanitizers the replay test's file is a third as long (500 s of event time, 200,000
# fills): its kills and resumes are the same, and it was 60-80 s of CI's ASan stage.
if(TARGET segmentd AND TARGET fillsim)
  set(restart_fill_seconds 1500)
  if(SEGMENTD_SANITIZE)
    set(restart_fill_seconds 500)
  endif()
  add_test(NAME integration/restart_replay_sigkill
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/restart_test.py replay --segmentd $<TARGET_FILE:segmentd>
            --fillsim $<TARGET_FILE:fillsim> --work ${CMAKE_CURRENT_BINARY_DIR}/restart_replay
            --fill-seconds ${restart_fill_seconds})
  add_test(NAME integration/restart_corrupt_checkpoints
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/restart_test.py corrupt --segmentd $<TARGET_FILE:segmentd>
            --work ${CMAKE_CURRENT_BINARY_DIR}/restart_corrupt)
  add_test(NAME integration/restart_default_run
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/restart_test.py default --segmentd $<TARGET_FILE:segmentd>
            --work ${CMAKE_CURRENT_BINARY_DIR}/restart_default)
  add_test(NAME integration/restart_ingest_feed_resend
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/restart_test.py ingest --segmentd $<TARGET_FILE:segmentd>
            --work ${CMAKE_CURRENT_BINARY_DIR}/restart_ingest)
  add_test(NAME integration/restart_upgrade_from_one_clock_checkpoint
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/restart_test.py upgrade --segmentd $<TARGET_FILE:segmentd>
            --work ${CMAKE_CURRENT_BINARY_DIR}/restart_upgrade)
  # The slowest entries of the suite (25-35 s under ASan, mostly waiting on the processes they
  # drive): a COST starts them first, beside the short ones, instead of last and alone.
  set_tests_properties(integration/restart_replay_sigkill integration/restart_corrupt_checkpoints
    integration/restart_default_run PROPERTIES LABELS "integration" TIMEOUT 300 COST 100)
  set_tests_properties(integration/restart_ingest_feed_resend integration/restart_upgrade_from_one_clock_checkpoint
    PROPERTIES LABELS "integration" TIMEOUT 120 COST 50)
endif()
