// `ipusim ops` lists the lowering registry, and docs/ops.md is its output.
#include "cli_support.h"

using namespace cli_test;

TEST_CASE("docs/ops.md is what `ipusim ops --markdown` prints") {
  Result r = ipusim("ops --markdown");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("| Concat | 4-") != std::string::npos);
  CHECK(r.out.find("| Reshape | 5-") != std::string::npos);
  const std::string doc = readText(fs::path(IPUSIM_SOURCE_DIR) / "docs" / "ops.md");
  CHECK_MESSAGE(doc == r.out, "docs/ops.md is stale: regenerate it with `ipusim ops --markdown > docs/ops.md`");
}

TEST_CASE("ipusim ops lists every lowering with its opsets and dtypes") {
  Result r = ipusim("ops");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Add") != std::string::npos);
  CHECK(r.out.find("opsets 7-") != std::string::npos);
  CHECK(ipusim("ops --bogus").code == 2);
}
