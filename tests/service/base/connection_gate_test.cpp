#include "service/base/connection_gate.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace segmentd;

TEST_CASE("connection gate: a new connection displaces the oldest waiting one, never refused", "[connection_gate]") {
  auto gate = std::make_shared<ConnectionGate>(3, 16);
  std::vector<int> evicted;
  std::vector<GateTicket> tickets;
  for (int i = 0; i < 5; ++i)
    tickets.push_back(gate->enter("10.0.0." + std::to_string(i), [&, i] { evicted.push_back(i); }));
  CHECK(evicted == std::vector<int>{0, 1});
  CHECK(gate->pending() == 3);
  CHECK(gate->evicted() == 2);
  // An admitted connection no longer waits and can no longer be displaced.
  tickets[2].admit();
  CHECK_FALSE(tickets[2].waiting());
  CHECK(gate->pending() == 2);
  tickets.push_back(gate->enter("10.0.0.9", [&] { evicted.push_back(9); }));
  CHECK(evicted == std::vector<int>{0, 1});
  tickets.push_back(gate->enter("10.0.0.10", [&] { evicted.push_back(10); }));
  CHECK(evicted == std::vector<int>{0, 1, 3});
  // A ticket that goes away leaves; one already evicted leaves nothing behind.
  tickets.clear();
  CHECK(gate->pending() == 0);
}

TEST_CASE("connection gate: past its per-peer bound a peer displaces its own oldest", "[connection_gate]") {
  auto gate = std::make_shared<ConnectionGate>(100, 2);
  std::vector<std::string> evicted;
  std::vector<GateTicket> tickets;
  tickets.push_back(gate->enter("other", [&] { evicted.push_back("other"); }));
  for (int i = 0; i < 4; ++i)
    tickets.push_back(gate->enter("noisy", [&, i] { evicted.push_back("noisy" + std::to_string(i)); }));
  CHECK(evicted == std::vector<std::string>{"noisy0", "noisy1"});
  CHECK(gate->pending() == 3);  // the other peer's connection was never touched
}

TEST_CASE("connection gate: concurrent enter, admit and leave stay consistent", "[connection_gate][tsan]") {
  auto gate = std::make_shared<ConnectionGate>(8, 4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([gate, t] {
      for (int i = 0; i < 2000; ++i) {
        GateTicket ticket = gate->enter("peer" + std::to_string((t + i) % 3), [] {});
        if (i % 2) ticket.admit();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(gate->pending() == 0);
}
