#include "repo/events/witness.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using cairn::testing::TempDir;

ChainHead Head() { return ChainHead{42, std::string(64, 'a'), 1763726400000000}; }

TEST(Witness, SignedHeadVerifiesAndRoundTripsThroughJson) {
  TempDir dir;
  const std::string priv = (dir / "w.key").string(), pub = (dir / "w.pub").string();
  ASSERT_OK(GenerateWitnessKey(priv, pub));
  struct stat st;
  ASSERT_EQ(::stat(priv.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto w = MakeWitness(Head(), priv);
  ASSERT_OK(w);
  EXPECT_EQ(w->signature_hex.size(), 128u);
  auto parsed = ParseWitness(WitnessToJson(*w));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->head.seq, 42u);
  EXPECT_OK(VerifyWitnessSignature(*parsed, pub));
  // No trusted key: the signer cannot be checked, so the signature is not "verified".
  Status unchecked = VerifyWitnessSignature(*parsed, "");
  EXPECT_EQ(unchecked.code(), Code::kInvalidArgument) << unchecked.ToString();
  EXPECT_NE(unchecked.message().find("signer was not checked"), std::string::npos);
  auto hex = WitnessPublicKeyHex(pub);
  ASSERT_OK(hex);
  EXPECT_EQ(*hex, parsed->public_key_hex);
  EXPECT_OK(VerifyWitnessSignature(*parsed, std::vector<std::string>{"00", *hex}));
  Status other = VerifyWitnessSignature(*parsed, std::vector<std::string>{std::string(64, 'a')});
  EXPECT_TRUE(other.IsCorruption()) << other.ToString();
  EXPECT_NE(other.message().find("not trusted"), std::string::npos) << other.ToString();
}

TEST(Witness, EditedHeadOrForeignKeyIsCaught) {
  TempDir dir;
  ASSERT_OK(GenerateWitnessKey((dir / "a.key").string(), (dir / "a.pub").string()));
  ASSERT_OK(GenerateWitnessKey((dir / "b.key").string(), (dir / "b.pub").string()));
  auto w = MakeWitness(Head(), (dir / "a.key").string());
  ASSERT_OK(w);

  Witness edited = *w;
  edited.head.seq = 41;
  Status s = VerifyWitnessSignature(edited, (dir / "a.pub").string());
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();

  // A head signed with someone else's key is refused when a trusted key is given.
  auto forged = MakeWitness(Head(), (dir / "b.key").string());
  ASSERT_OK(forged);
  s = VerifyWitnessSignature(*forged, (dir / "a.pub").string());
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(Witness, KeysAreNeverOverwrittenAndBadInputIsNamed) {
  TempDir dir;
  ASSERT_OK(GenerateWitnessKey((dir / "k").string(), (dir / "k.pub").string()));
  EXPECT_TRUE(GenerateWitnessKey((dir / "k").string(), (dir / "x.pub").string()).IsAlreadyExists());

  auto unsigned_w = MakeWitness(Head(), "");
  ASSERT_OK(unsigned_w);
  EXPECT_EQ(VerifyWitnessSignature(*unsigned_w, "").code(), Code::kInvalidArgument);

  EXPECT_FALSE(ParseWitness("not json").ok());
  EXPECT_FALSE(ParseWitness(R"({"format":"cairn-witness-1","seq":1,"hash":"zz","time":1})").ok());
  auto missing_key = MakeWitness(Head(), (dir / "nope.key").string());
  EXPECT_TRUE(missing_key.status().IsNotFound()) << missing_key.status().ToString();
}

}  // namespace
}  // namespace cairn::repo
