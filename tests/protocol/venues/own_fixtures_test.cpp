// The repository's own fixtures (tests/fixtures/exchanges) are all used: each file with a
// hand-computed .expected.json is checked by a test case named "fixture <venue>/<name>: ...".

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/fixtures/fixture_paths.h"

namespace segmentd::testing {
namespace {

TEST_CASE("fixtures: every own fixture with an .expected.json has a test case", "[fixtures]") {
  // Every registered test case, hidden ones (the known deviations) included.
  std::vector<std::string> names;
  for (const Catch::TestCase& t : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
    names.push_back(t.getTestCaseInfo().name);
  const std::filesystem::path root = own_fixture_path("");
  REQUIRE(std::filesystem::is_directory(root));
  const std::string suffix = ".expected.json";
  std::set<std::string> stems;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string file = entry.path().filename().string();
    if (!entry.is_regular_file() || file.size() <= suffix.size() ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string venue = entry.path().parent_path().filename().string();
    stems.insert(venue + "/" + file.substr(0, file.size() - suffix.size()));
  }
  CHECK(stems.size() >= 60);  // 5 venues' fixtures (tests/fixtures/exchanges/README.md)
  for (const std::string& stem : stems) {
    INFO("no test case is named \"fixture " << stem << ": ...\"");
    bool found = false;
    for (const std::string& name : names) found = found || name.find("fixture " + stem + ":") != std::string::npos;
    CHECK(found);
  }
}

}  // namespace
}  // namespace segmentd::testing
