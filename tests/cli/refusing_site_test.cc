// Issue 15: every verb that writes to a site (deposit, replicate, audit
// repair, site resync, gc) exits non-zero when a site refuses its writes, and
// names the site and the reason: a full disk ("no space left", never
// InvalidArgument), a read-only one, a site whose CAIRN-SITE marker is gone.
// Full and read-only are made without root by an LD_PRELOAD shim
// (tests/shim/site_fault_shim.cc) around the real binary, for site b only.
#include <gmock/gmock.h>

#include <cctype>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Refusal {
  std::string kind;    // "nospace", "readonly", "unmarked"
  std::string reason;  // what every message must say
};

class RefusingSiteTest : public RepoFixture, public ::testing::WithParamInterface<Refusal> {
 protected:
  fs::path SiteB() { return tmp_ / "repo/sites/b"; }

  // Runs cairn with site b refusing writes the way GetParam() says.
  CommandResult Refused(const std::vector<std::string>& args) {
    std::vector<std::string> env{"CAIRN_REPO=" + Root()};
    if (GetParam().kind != "unmarked") {
      env.push_back("LD_PRELOAD=" + std::string(CAIRN_SITE_FAULT_SHIM));
      env.push_back("ASAN_OPTIONS=verify_asan_link_order=0");
      env.push_back("CAIRN_FAULT_PREFIX=" + SiteB().string());
      env.push_back("CAIRN_FAULT_KIND=" + GetParam().kind);
    }
    return RunCairn(args, env);
  }

  void Refuse() {
    if (GetParam().kind == "unmarked") {
      marker_ = ReadFile(SiteB() / "CAIRN-SITE");
      ASSERT_TRUE(fs::remove(SiteB() / "CAIRN-SITE"));
    }
  }

  // Non-zero, naming site b and the reason, never as InvalidArgument.
  void ExpectRefusalNamed(const CommandResult& r, const std::string& verb) {
    std::string all = r.out + r.err;
    EXPECT_NE(r.exit_code, 0) << verb << ": " << all;
    EXPECT_THAT(all, HasSubstr("site b")) << verb;
    std::string lower = all;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_THAT(lower, HasSubstr(GetParam().reason)) << verb << ": " << all;
    EXPECT_THAT(all, Not(HasSubstr("InvalidArgument"))) << verb;
  }

  std::string marker_;
};

TEST_P(RefusingSiteTest, EveryWriteVerbExitsNonZeroNamingSiteAndReason) {
  fs::path first = MakeSourceFolder("first");
  Deposit("acme", first.string(), "first");
  // A blob no version references on site b, for gc.
  const std::string orphan = "nobody holds these bytes\n";
  std::string orphan_sha =
      bagit::HashBytes(orphan, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  WriteFile(SiteB() / repo::layout::BlobKey(orphan_sha), orphan);
  // A corrupt copy on site b, for the audit's repair.
  FlipByte(BlobFile("b", ReadFile(first / "sub/b.bin")));
  Refuse();

  ExpectRefusalNamed(
      Refused({"deposit", "acme", MakeSourceFolder("second").string(), "--id", "second"}),
      "deposit");
  ExpectRefusalNamed(Refused({"replicate"}), "replicate");
  ExpectRefusalNamed(Refused({"audit", "run", "--all"}), "audit run (repair)");
  ExpectRefusalNamed(Refused({"site", "resync", "b"}), "site resync");
  if (GetParam().kind != "nospace") {  // removing needs no space
    ExpectRefusalNamed(Refused({"gc", "--grace", "0"}), "gc");
  }
}

INSTANTIATE_TEST_SUITE_P(Sites, RefusingSiteTest,
                         ::testing::Values(Refusal{"nospace", "no space left"},
                                           Refusal{"readonly", "read-only"},
                                           Refusal{"unmarked", "cairn-site"}),
                         [](const auto& info) { return info.param.kind; });

}  // namespace
}  // namespace cairn::testing
