// Issue 15: a restore with a site down prints one summary line for that site
// (not one line per file), completes from the other site, exits 0 when every
// file was restored and verified, and says which site it used instead.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class RestoreSiteDownTest : public RepoFixture {};

size_t CountLinesWith(const std::string& text, const std::string& what) {
  size_t lines = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.substr(start, end - start).find(what) != std::string::npos) ++lines;
    start = end + 1;
  }
  return lines;
}

TEST_F(RestoreSiteDownTest, OneSummaryForTheDownSiteAndTheRestoreCompletesFromTheOther) {
  fs::path src = tmp_ / "src-many";
  for (int i = 0; i < 40; ++i) {
    WriteFile(src / ("file-" + std::to_string(i) + ".txt"), "contents " + std::to_string(i));
  }
  Deposit("acme", src.string(), "many");
  // Site a (the first site, tried first) is gone: an unmounted share.
  fs::rename(tmp_ / "repo/sites/a", tmp_ / "a-unmounted");

  fs::path dest = tmp_ / "out";
  CommandResult r = Cairn({"restore", "acme/many", dest.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadTree(dest / "data"), ReadTree(src));
  ExpectSha256sumAccepts(dest);
  // One line about site a, however many files it held; it names the other site.
  EXPECT_LE(CountLinesWith(r.err, "site a"), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("site a"));
  EXPECT_THAT(r.err, HasSubstr("could not be read"));
  EXPECT_THAT(r.err + r.out, HasSubstr("from site b instead")) << r.out << r.err;
}

}  // namespace
}  // namespace cairn::testing
