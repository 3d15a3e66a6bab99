#The venue server mode(fillsim - venue) : simulated fills in each venue's wire format over
#websocket, with the venue's control plane. A library of its own, so that the integration tests
#link the server in - process; it reads requests with the protocol control - plane parsers
#(protocol/*_control.h) and checks their signatures with its own code (venue_auth.cpp).
add_library(fillsim_venue STATIC
  ${CMAKE_CURRENT_LIST_DIR}/frame_trade_ids.cpp
  ${CMAKE_CURRENT_LIST_DIR}/venue_auth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/venue_encoders.cpp
  ${CMAKE_CURRENT_LIST_DIR}/venue_control_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/venue_server.cpp)
target_link_libraries(fillsim_venue PUBLIC segmentd_service)
# The server's Beast code, like the service's sessions (service/CMakeLists.txt).
if(SEGMENTD_NET_COMPILE_OPTIONS)
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/venue_server.cpp PROPERTIES
    COMPILE_OPTIONS "${SEGMENTD_NET_COMPILE_OPTIONS}")
endif()

add_executable(fillsim-venue ${CMAKE_CURRENT_LIST_DIR}/venue_server_main.cpp)
target_link_libraries(fillsim-venue PRIVATE fillsim_venue Boost::program_options)
