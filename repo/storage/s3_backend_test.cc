// S3 backend tests on a REAL Ceph RADOS Gateway (tests/util/s3_gateway.h): error
// meanings, multipart uploads, write-once, digests sent to the gateway, cleanup
// of interrupted uploads, Object Lock. URL, credential and XML parsing tests
// need no gateway. The storage conformance suite runs on S3 in
// tests/s3/s3_conformance_test.cc.
#include "repo/storage/s3_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>
#include <set>
#include <thread>

#include "repo/storage/s3_writer.h"
#include "repo/storage/s3_xml.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_gateway.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using cairn::testing::S3Gateway;

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// The SHA-256 of each 5 MiB part of `content` (the part size of these tests).
std::vector<std::string> PartDigests(std::string_view content) {
  std::vector<std::string> parts;
  for (size_t at = 0; at < content.size(); at += 5 << 20) {
    parts.push_back(Sha256Hex(content.substr(at, 5 << 20)));
  }
  return parts;
}

class S3BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    gateway_ = cairn::testing::SharedS3Gateway(&log);
    ASSERT_NE(gateway_, nullptr) << "the Ceph gateway did not start:\n" << log;
    bucket_ = cairn::testing::FreshBucketName();
    backend_ = Open("part-size=5MiB");
    Status created = backend_->CreateBucket(/*object_lock=*/false);
    ASSERT_OK(created);
  }

  // The gateway is shared by a whole ctest run: give its memory back.
  void TearDown() override {
    if (backend_ != nullptr) (void)backend_->DeleteBucket();
  }

  std::unique_ptr<S3Backend> Open(const std::string& extra = "") {
    auto opened = OpenS3BackendTyped(cairn::testing::S3Url(*gateway_, bucket_, extra));
    EXPECT_OK(opened);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // Raw object names under `prefix` in the bucket, temp objects included.
  std::set<std::string> RawNames(const std::string& prefix) {
    S3Request request;
    request.query = {{"list-type", "2"}, {"prefix", prefix}};
    auto response = backend_->http().Send(request);
    EXPECT_OK(response);
    std::set<std::string> names;
    for (auto contents : XmlElements(response->body, "Contents")) {
      names.insert(XmlText(contents, "Key"));
    }
    return names;
  }

  // Keys of the multipart uploads in progress in the bucket.
  std::vector<std::string> Uploads() {
    S3Request request;
    request.query = {{"uploads", ""}};
    auto response = backend_->http().Send(request);
    EXPECT_OK(response);
    std::vector<std::string> keys;
    for (auto upload : XmlElements(response->body, "Upload"))
      keys.push_back(XmlText(upload, "Key"));
    return keys;
  }

  const S3Gateway* gateway_ = nullptr;
  std::string bucket_;
  std::unique_ptr<S3Backend> backend_;
};

TEST(S3Url, ParsesEveryParameter) {
  auto config = ParseS3Url(
      "s3://my-bucket/a/b/?endpoint=https://s3.example.org:9000/&region=eu-west-1"
      "&ca-file=/etc/ca.pem&object-lock=COMPLIANCE&retain=10y&part-size=8MiB");
  ASSERT_OK(config);
  EXPECT_EQ(config->bucket, "my-bucket");
  EXPECT_EQ(config->prefix, "a/b");
  EXPECT_EQ(config->endpoint, "https://s3.example.org:9000");
  EXPECT_EQ(config->region, "eu-west-1");
  EXPECT_EQ(config->ca_file, "/etc/ca.pem");
  EXPECT_EQ(config->object_lock_mode, "COMPLIANCE");
  EXPECT_EQ(config->retain_seconds, 10ull * 365 * 86400);
  EXPECT_EQ(config->part_size, 8ull << 20);
  EXPECT_EQ(S3DisplayUrl(*config),
            "s3://my-bucket/a/b?endpoint=https://s3.example.org:9000&region=eu-west-1"
            "&ca-file=/etc/ca.pem&object-lock=COMPLIANCE&retain=10y");
}

TEST(S3Url, RefusesCredentialsWithoutEchoingThem) {
  const std::string secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzSECRET";
  for (const std::string& url :
       {"s3://AKIDEXAMPLE:" + secret + "@bucket?endpoint=http://h:1",
        "s3://bucket?endpoint=http://AKID:" + secret + "@h:1",
        "s3://bucket?endpoint=http://h:1&secret-key=" + secret,
        "s3://bucket?endpoint=http://h:1&aws_secret_access_key=" + secret}) {
    auto config = ParseS3Url(url);
    ASSERT_FALSE(config.ok()) << url;
    EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
    EXPECT_NE(config.status().message().find("credentials"), std::string::npos)
        << config.status().ToString();
    EXPECT_EQ(config.status().message().find(secret), std::string::npos);
  }
}

TEST(S3Url, RefusesMalformedUrls) {
  for (const char* url :
       {"s3://bucket", "s3://Bad_Bucket?endpoint=http://h:1", "s3://bucket?endpoint=ftp://h",
        "s3://bucket?endpoint=http://h&x=1", "s3://bucket?endpoint=http://h&object-lock=GOVERNANCE",
        "s3://bucket?endpoint=http://h&object-lock=SOFT&retain=1d",
        "s3://bucket?endpoint=http://h&part-size=1MiB", "s3://bucket/../x?endpoint=http://h",
        "file:///x"}) {
    EXPECT_EQ(ParseS3Url(url).status().code(), Code::kInvalidArgument) << url;
  }
}

TEST(S3Credentials, FromNamedProfileInCredentialsFile) {
  cairn::testing::TempDir dir;
  cairn::testing::WriteFile(dir / "credentials",
                            "[default]\naws_access_key_id = DEFAULTID\naws_secret_access_key = d\n"
                            "[archive]\naws_access_key_id = ARCHIVEID\n"
                            "aws_secret_access_key = archive-secret\n");
  std::string saved_id = std::getenv("AWS_ACCESS_KEY_ID") ? std::getenv("AWS_ACCESS_KEY_ID") : "";
  std::string saved_secret =
      std::getenv("AWS_SECRET_ACCESS_KEY") ? std::getenv("AWS_SECRET_ACCESS_KEY") : "";
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").c_str(), 1);
  setenv("AWS_PROFILE", "archive", 1);
  auto creds = LoadS3Credentials();
  setenv("AWS_PROFILE", "missing", 1);
  auto none = LoadS3Credentials();
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  unsetenv("AWS_PROFILE");
  if (!saved_id.empty()) setenv("AWS_ACCESS_KEY_ID", saved_id.c_str(), 1);
  if (!saved_secret.empty()) setenv("AWS_SECRET_ACCESS_KEY", saved_secret.c_str(), 1);
  ASSERT_OK(creds);
  EXPECT_EQ(creds->access_key, "ARCHIVEID");
  EXPECT_EQ(creds->secret_key, "archive-secret");
  EXPECT_EQ(none.status().code(), Code::kPermissionDenied);
  EXPECT_NE(none.status().message().find("'missing'"), std::string::npos);
}

TEST(S3Xml, FindsElementsAndDecodesEntities) {
  std::string xml =
      "<R><KeyCount>2</KeyCount><Contents><Key>a&amp;b &lt;c&gt; &#233;&#x41;</Key>"
      "<Size>5</Size></Contents><Contents><Key>x&bogus;</Key><Size>7</Size></Contents><E/></R>";
  auto contents = XmlElements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(XmlText(contents[0], "Key"),
            "a&b <c> \xC3\xA9"
            "A");
  EXPECT_EQ(XmlText(contents[1], "Key"), "x&bogus;");
  EXPECT_EQ(XmlText(xml, "Key"),
            "a&b <c> \xC3\xA9"
            "A")
      << "<KeyCount> is not <Key>";
  EXPECT_EQ(XmlElements(xml, "E").size(), 1u);
  EXPECT_EQ(XmlText(xml, "Missing"), "");
}

TEST_F(S3BackendTest, PrefixAndOddKeysRoundTrip) {
  auto prefixed =
      OpenS3BackendTyped("s3://" + bucket_ + "/sites/one?endpoint=" + gateway_->endpoint +
                         "&region=" + gateway_->region);
  ASSERT_OK(prefixed);
  const std::string odd = "dir with space/caf\xC3\xA9+plus~tilde%percent&amp";
  ASSERT_OK((*prefixed)->Put(odd, "odd"));
  EXPECT_EQ(*(*prefixed)->ReadAll(odd), "odd");
  EXPECT_EQ(RawNames("sites/"), std::set<std::string>{"sites/one/" + odd});
  std::vector<std::string> keys;
  ASSERT_TRUE((*prefixed)
                  ->List("",
                         [&](const ObjectInfo& info) {
                           keys.push_back(info.key);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(keys, std::vector<std::string>{odd});
  EXPECT_EQ((*prefixed)->DisplayUrl().find(gateway_->secret_key), std::string::npos);
  EXPECT_EQ((*prefixed)->DisplayUrl().find("s3://" + bucket_ + "/sites/one?"), 0u);
}

TEST_F(S3BackendTest, MissingKeyAndBucketAreNotFound) {
  EXPECT_TRUE(backend_->Stat("no/such").status().IsNotFound());
  Status read = backend_->Read("no/such", 0, StorageBackend::kToEnd,
                               [](std::span<const std::byte>) { return Status::OK(); });
  EXPECT_TRUE(read.IsNotFound()) << read.ToString();
  bucket_ = cairn::testing::FreshBucketName();  // never created
  auto missing = Open();
  Status root = missing->CreateRoot();
  EXPECT_TRUE(root.IsNotFound()) << root.ToString();
  EXPECT_NE(root.message().find("--create-bucket"), std::string::npos);
}

TEST_F(S3BackendTest, WrongSecretIsPermissionDeniedWithoutTheSecret) {
  ASSERT_OK(backend_->Put("k", "v"));
  const std::string wrong = "not-the-secret-0123456789abcdefXYZ";
  S3Config config = backend_->config();
  S3Backend bad(config, S3Credentials{gateway_->access_key, wrong, ""});
  for (Status status :
       {bad.Stat("k").status(), bad.ReadAll("k").status(), bad.Put("k2", "x"), bad.Remove("k")}) {
    EXPECT_EQ(status.code(), Code::kPermissionDenied) << status.ToString();
    EXPECT_NE(status.message().find("credentials refused for "), std::string::npos)
        << status.ToString();
    EXPECT_NE(status.message().find("s3://" + bucket_ + "/k"), std::string::npos)
        << status.ToString();
    EXPECT_EQ(status.ToString().find(wrong), std::string::npos);
    EXPECT_EQ(status.ToString().find(gateway_->secret_key), std::string::npos);
  }
  EXPECT_EQ(*backend_->ReadAll("k"), "v");
}

TEST_F(S3BackendTest, ClaimedSha256MismatchIsRefusedAsCorruption) {
  Status status = backend_->PutWithClaimedSha256ForTest("d", "the real bytes", Sha256Hex("other"));
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_TRUE(backend_->Stat("d").status().IsNotFound());
  ASSERT_OK(
      backend_->PutWithClaimedSha256ForTest("d", "the real bytes", Sha256Hex("the real bytes")));
}

TEST_F(S3BackendTest, MultipartUploadRoundTripsAndLeavesNoTemp) {
  const std::string content = RandomBytes((12 << 20) + 12345, 7);
  PutOptions options;
  options.expected_sha256 = Sha256Hex(content);
  options.if_absent = true;
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  for (size_t at = 0; at < content.size(); at += 1 << 20) {
    ASSERT_OK((*writer)->Append(Bytes(std::string_view(content).substr(at, 1 << 20))));
  }
  Status committed = (*writer)->Commit("blobs/big");
  ASSERT_OK(committed);
  EXPECT_EQ(backend_->Stat("blobs/big")->size, content.size());
  EXPECT_EQ(Sha256Hex(*backend_->ReadAll("blobs/big")), options.expected_sha256);
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/big"});
  EXPECT_TRUE(Uploads().empty());
  // Write-once holds for multipart writes too.
  auto again = backend_->NewWriter(options);
  ASSERT_OK((*again)->Append(Bytes(content)));
  EXPECT_TRUE((*again)->Commit("blobs/big").IsAlreadyExists());
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/big"});
  EXPECT_TRUE(Uploads().empty());
}

TEST_F(S3BackendTest, KeyHintUploadsPartsToTheKeyWithoutTempObjects) {
  const std::string content = RandomBytes((12 << 20) + 5, 11);
  PutOptions options;
  options.expected_sha256 = Sha256Hex(content);
  options.if_absent = true;
  options.key_hint = "blobs/direct";
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Append(Bytes(content)));
  EXPECT_EQ(Uploads(), std::vector<std::string>{"blobs/direct"}) << "parts go to the key's upload";
  EXPECT_TRUE(RawNames("").empty()) << "nothing visible before Commit, no temp object";
  Status committed = (*writer)->Commit("blobs/direct");
  ASSERT_OK(committed);
  EXPECT_EQ(Sha256Hex(*backend_->ReadAll("blobs/direct")), options.expected_sha256);
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/direct"});
  EXPECT_TRUE(Uploads().empty());
  // A second hinted writer for the existing key sends its parts all the same
  // (the key may be gone by Commit), answers AlreadyExists and leaves no upload.
  auto again = backend_->NewWriter(options);
  ASSERT_OK((*again)->Append(Bytes(content)));
  EXPECT_EQ(Uploads(), std::vector<std::string>{"blobs/direct"});
  EXPECT_TRUE((*again)->Commit("blobs/direct").IsAlreadyExists());
  EXPECT_TRUE(Uploads().empty());
  // A gateway failure while parts travel aborts the upload, leaving nothing.
  options.key_hint = "blobs/failed";
  auto failing = backend_->NewWriter(options);
  ASSERT_OK((*failing)->Append(Bytes(content.substr(0, 6 << 20))));
  (*failing)->Abort();
  EXPECT_TRUE(Uploads().empty());
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/direct"});
}

TEST_F(S3BackendTest, PartAndRangeBuffersAreUsedAgainWithoutMixingBytes) {
  // Seven 5 MiB parts, the last of 7 bytes: more parts than travel at once, so
  // the buffers of parts sent carry later parts; read back in more ranges than
  // are fetched at once, so range buffers are used again too.
  const std::string content = RandomBytes((30 << 20) + 7, 13);
  PutOptions options;
  options.expected_sha256 = Sha256Hex(content);
  options.key_hint = "blobs/many";
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  for (size_t at = 0; at < content.size(); at += 3 << 20) {
    ASSERT_OK((*writer)->Append(Bytes(std::string_view(content).substr(at, 3 << 20))));
  }
  ASSERT_OK((*writer)->Commit("blobs/many"));
  Result<std::string> whole = backend_->ReadAll("blobs/many");
  ASSERT_OK(whole);
  EXPECT_TRUE(*whole == content) << "read back " << whole->size() << " bytes, other than written";
  const uint64_t from = (3 << 20) + 1, length = (26 << 20) + 3;
  std::string middle;
  ASSERT_OK(backend_->Read("blobs/many", from, length, [&](std::span<const std::byte> chunk) {
    middle.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return Status::OK();
  }));
  EXPECT_TRUE(middle == content.substr(from, length));
  EXPECT_TRUE(Uploads().empty());
}

TEST_F(S3BackendTest, MultipartWithWrongExpectedDigestIsCorruptionAndLeavesNothing) {
  PutOptions options;
  options.expected_sha256 = Sha256Hex("something else");
  auto writer = backend_->NewWriter(options);
  ASSERT_OK((*writer)->Append(Bytes(RandomBytes(11 << 20, 3))));
  Status status = (*writer)->Commit("blobs/x");
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_TRUE(RawNames("").empty());
  EXPECT_TRUE(Uploads().empty());
}

TEST_F(S3BackendTest, TheGatewayIsAskedHourlyWhetherItChecksDigestsAndKeepsNothing) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(backend_->ChecksPayloadDigests(start)) << "this Ceph gateway refuses a wrong digest";
  EXPECT_TRUE(backend_->ChecksPayloadDigests(start + std::chrono::minutes(59)));
  EXPECT_EQ(backend_->probes_sent(), 1) << "the answer is kept for an hour";
  EXPECT_TRUE(backend_->ChecksPayloadDigests(start + S3Backend::kProbeLifetime));
  EXPECT_EQ(backend_->probes_sent(), 2) << "then asked again";
  EXPECT_TRUE(RawNames("").empty()) << "the probe's object was refused, nothing stored";
  EXPECT_EQ(backend_->Capabilities().signed_part_size, uint64_t{5} << 20);
}

TEST_F(S3BackendTest, SignedPartsAreCheckedByTheGatewayNotHashedAgainByTheWriter) {
  // Where the gateway checks each part against the digest it is sent with, the
  // writer trusts that check and hashes nothing itself: the caller's part
  // digests (from the same read as expected_sha256) decide what is stored. To
  // see it, the part digests here describe the bytes and expected_sha256 does
  // not: a writer that hashed the whole would refuse them.
  const std::string content = RandomBytes((11 << 20) + 9, 21);
  PutOptions options;
  options.expected_sha256 = Sha256Hex("what the caller promised the parts add up to");
  options.part_sha256 = PartDigests(content);
  options.key_hint = "blobs/signed";
  ASSERT_OK(backend_->Put("blobs/signed", content, options));
  EXPECT_TRUE(*backend_->ReadAll("blobs/signed") == content);
  // One part's digest off by one bit: the gateway refuses that part, nothing is stored.
  options.key_hint = "blobs/refused";
  options.part_sha256[1][0] = options.part_sha256[1][0] == '0' ? '1' : '0';
  Status status = backend_->Put("blobs/refused", content, options);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.message().find("gateway refused the bytes"), std::string::npos)
      << status.ToString();
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/signed"});
  EXPECT_TRUE(Uploads().empty());
}

TEST_F(S3BackendTest, ASmallObjectIsSignedWithItsExpectedDigestAndRefusedByTheGateway) {
  // One PUT: expected_sha256 is its signature, and the gateway's refusal (not a
  // hash by the writer) is what stops bytes that miss it.
  PutOptions options;
  options.expected_sha256 = Sha256Hex("the bytes the caller hashed");
  options.key_hint = "blobs/small";
  Status status = backend_->Put("blobs/small", "the bytes found when sending", options);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.message().find("gateway refused the bytes"), std::string::npos)
      << status.ToString();
  options.expected_sha256 = Sha256Hex("the bytes the caller hashed");
  ASSERT_OK(backend_->Put("blobs/small", "the bytes the caller hashed", options));
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/small"});
}

TEST_F(S3BackendTest, WhereTheGatewayIsNotTrustedTheWriterHashesAndComparesItself) {
  backend_->DistrustGatewayDigestsForTest();
  EXPECT_FALSE(backend_->ChecksPayloadDigests());
  // Large: the part digests and expected_sha256 describe `content`, the bytes
  // sent differ in the middle part; the writer's own digest refuses them.
  const std::string content = RandomBytes((11 << 20) + 9, 23);
  std::string changed = content;
  changed[(5 << 20) + 17] ^= 1;
  PutOptions options;
  options.expected_sha256 = Sha256Hex(content);
  options.part_sha256 = PartDigests(content);
  options.key_hint = "blobs/large";
  Status status = backend_->Put("blobs/large", changed, options);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.message().find("is not the expected"), std::string::npos) << status.ToString();
  // Small: the same, in one PUT.
  PutOptions small;
  small.expected_sha256 = Sha256Hex("the bytes the caller hashed");
  small.key_hint = "blobs/small";
  status = backend_->Put("blobs/small", "the bytes found when sending", small);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.message().find("is not the expected"), std::string::npos) << status.ToString();
  EXPECT_TRUE(RawNames("").empty());
  EXPECT_TRUE(Uploads().empty());
  // The bytes described are stored.
  ASSERT_OK(backend_->Put("blobs/large", content, options));
  EXPECT_TRUE(*backend_->ReadAll("blobs/large") == content);
}

TEST_F(S3BackendTest, ACallerThatHashesWhatItAppendsIsNotHashedAfter) {
  // PutOptions::caller_hashes_appended: the writer leaves the check of
  // expected_sha256 to the caller (who commits only under its own digest's
  // name). To see it, expected_sha256 here is not the bytes' digest: a writer
  // that hashed the whole would refuse them; the key hint still holds.
  const std::string content = RandomBytes((11 << 20) + 1, 31);
  PutOptions options;
  options.expected_sha256 = Sha256Hex("what the caller was told");
  options.caller_hashes_appended = true;
  options.key_hint = "blobs/streamed";
  ASSERT_OK(backend_->Put("blobs/streamed", content, options));
  EXPECT_TRUE(*backend_->ReadAll("blobs/streamed") == content);
  EXPECT_EQ(backend_->Put("blobs/elsewhere", content, options).code(), Code::kInvalidArgument);
  EXPECT_EQ(RawNames(""), std::set<std::string>{"blobs/streamed"});
  EXPECT_TRUE(Uploads().empty());
}

TEST_F(S3BackendTest, InterruptedUploadsAreAbortedAndCleanedUp) {
  {
    auto writer = backend_->NewWriter({});
    ASSERT_OK((*writer)->Append(Bytes(RandomBytes(11 << 20, 5))));
  }  // destroyed without Commit: its temp parts (two, sent in the background) are deleted
  EXPECT_TRUE(RawNames("").empty());
  EXPECT_TRUE(Uploads().empty());
  // A writer killed part way leaves an upload and maybe a completed temp object.
  S3Request start;
  start.method = "POST";
  start.object = "tmp/killed-writer";
  start.query = {{"uploads", ""}};
  ASSERT_EQ(backend_->http().Send(start)->status, 200);
  S3Request temp;
  temp.method = "PUT";
  temp.object = "tmp/completed-temp";
  temp.body = "leftover";
  ASSERT_EQ(backend_->http().Send(temp)->status, 200);
  std::vector<std::string> keys;
  ASSERT_TRUE(backend_
                  ->List("",
                         [&](const ObjectInfo& i) {
                           keys.push_back(i.key);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_TRUE(keys.empty()) << "temp objects are never listed";
  ASSERT_OK(backend_->CleanupTemp(3600));
  EXPECT_EQ(Uploads().size(), 1u) << "young leftovers are kept";
  EXPECT_EQ(RawNames("tmp/").size(), 1u);
  ASSERT_OK(backend_->CleanupTemp(0));
  EXPECT_TRUE(Uploads().empty());
  EXPECT_TRUE(RawNames("").empty());
}

TEST_F(S3BackendTest, ObjectLockRetainsBlobs) {
  bucket_ = cairn::testing::FreshBucketName();
  auto locked = Open("object-lock=GOVERNANCE&retain=1d");
  ASSERT_OK(locked->CreateBucket(/*object_lock=*/true));
  ASSERT_OK(locked->Put("blobs/aa/locked", "kept for a day"));
  ASSERT_OK(locked->Put("CAIRN-SITE", "not locked"));
  S3Request retention;
  retention.object = "blobs/aa/locked";
  retention.query = {{"retention", ""}};
  auto answer = locked->http().Send(retention);
  ASSERT_OK(answer);
  EXPECT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(XmlText(answer->body, "Mode"), "GOVERNANCE");
  EXPECT_FALSE(XmlText(answer->body, "RetainUntilDate").empty());
  retention.object = "CAIRN-SITE";
  EXPECT_NE(locked->http().Send(retention)->status, 200) << "only blobs/ and bags/ are locked";
}

TEST_F(S3BackendTest, OnAnObjectLockBucketSignedUploadsAreCheckedByTheGatewayToo) {
  bucket_ = cairn::testing::FreshBucketName();
  auto locked = Open("object-lock=GOVERNANCE&retain=1d&part-size=5MiB");
  ASSERT_OK(locked->CreateBucket(/*object_lock=*/true));
  EXPECT_TRUE(locked->ChecksPayloadDigests()) << "the probe works on a locked bucket";
  const std::string content = RandomBytes((10 << 20) + 3, 29);
  PutOptions options;
  options.if_absent = true;
  options.expected_sha256 = Sha256Hex(content);
  options.part_sha256 = PartDigests(content);
  options.key_hint = "blobs/" + options.expected_sha256;
  std::string changed = content;
  changed[7] ^= 1;
  Status refused = locked->Put(options.key_hint, changed, options);
  EXPECT_TRUE(refused.IsCorruption()) << refused.ToString();
  ASSERT_OK(locked->Put(options.key_hint, content, options));
  EXPECT_TRUE(*locked->ReadAll(options.key_hint) == content);
  PutOptions small;
  small.if_absent = true;
  small.expected_sha256 = Sha256Hex("a small locked blob");
  small.key_hint = "blobs/" + small.expected_sha256;
  EXPECT_TRUE(locked->Put(small.key_hint, "other bytes", small).IsCorruption());
  ASSERT_OK(locked->Put(small.key_hint, "a small locked blob", small));
  EXPECT_EQ(*locked->ReadAll(small.key_hint), "a small locked blob");
}

// Version records and tag files are locked like blobs; a blob reused by a
// later version gets that version's retain-until date (never an earlier one).
TEST_F(S3BackendTest, ObjectLockCoversBagFilesAndReusedBlobsAreKeptLonger) {
  bucket_ = cairn::testing::FreshBucketName();
  auto day = Open("object-lock=GOVERNANCE&retain=1d");
  ASSERT_OK(day->CreateBucket(/*object_lock=*/true));
  ASSERT_OK(day->Put("bags/acme/obj/v1/version.pb", "record"));
  ASSERT_OK(day->Put("bags/acme/obj/v1/bagit.txt", "BagIt-Version: 1.0\n"));
  ASSERT_OK(day->Put("blobs/aa/reused", "kept"));
  auto until = [&](const std::string& key) {
    S3Request retention;
    retention.object = key;
    retention.query = {{"retention", ""}};
    auto answer = day->http().Send(retention);
    EXPECT_OK(answer);
    if (!answer.ok()) return std::string();
    EXPECT_EQ(answer->status, 200) << key << ": " << answer->body;
    return XmlText(answer->body, "RetainUntilDate").substr(0, 19);
  };
  EXPECT_FALSE(until("bags/acme/obj/v1/version.pb").empty());
  EXPECT_FALSE(until("bags/acme/obj/v1/bagit.txt").empty());
  const std::string first = until("blobs/aa/reused");
  ASSERT_FALSE(first.empty());

  // A later version on a site whose retention is now a year.
  auto year = Open("object-lock=GOVERNANCE&retain=1y");
  ASSERT_OK(year->ExtendRetention("blobs/aa/reused"));
  const std::string extended = until("blobs/aa/reused");
  EXPECT_GT(extended, first);
  EXPECT_GT(extended.substr(0, 4), first.substr(0, 4)) << "about a year later: " << extended;
  // Back to a day: never shortened.
  ASSERT_OK(day->ExtendRetention("blobs/aa/reused"));
  EXPECT_EQ(until("blobs/aa/reused"), extended);
  EXPECT_TRUE(year->ExtendRetention("blobs/aa/absent").IsNotFound());
  EXPECT_OK(year->ExtendRetention("CAIRN-SITE")) << "not a locked key: nothing to do";
}

// Write-once holds on an Object Lock (so versioned) bucket too: a second write of a key is
// refused, not stored as a newer version over the first (small and multipart).
TEST_F(S3BackendTest, IfAbsentIsWriteOnceOnAnObjectLockBucket) {
  bucket_ = cairn::testing::FreshBucketName();
  auto locked = Open("object-lock=GOVERNANCE&retain=1d&part-size=5MiB");
  ASSERT_OK(locked->CreateBucket(/*object_lock=*/true));
  PutOptions once;
  once.if_absent = true;
  for (const std::string key : {"bags/acme/o/v1/WITHDRAWN", "CAIRN-SITE"}) {
    ASSERT_OK(locked->Put(key, "first", once));
    EXPECT_TRUE(locked->Put(key, "second", once).IsAlreadyExists()) << key;
    EXPECT_EQ(*locked->ReadAll(key), "first") << key;
  }
  const std::string big(6 << 20, 'b');
  ASSERT_OK(locked->Put("blobs/cc/big", big, once));
  EXPECT_TRUE(locked->Put("blobs/cc/big", std::string(6 << 20, 'c'), once).IsAlreadyExists());
  EXPECT_EQ(*locked->ReadAll("blobs/cc/big"), big);
}

// Every stored version and delete marker of one key, as "v:ID" and "m:ID".
std::vector<std::string> StoredVersions(S3Backend& backend, const std::string& key) {
  S3Request list;
  list.query = {{"prefix", key}, {"versions", ""}};
  auto answer = backend.http().Send(list);
  EXPECT_OK(answer);
  std::vector<std::string> out;
  if (!answer.ok()) return out;
  EXPECT_EQ(answer->status, 200) << answer->body;
  for (std::string_view v : XmlElements(answer->body, "Version")) {
    if (XmlText(v, "Key") == key) out.push_back("v:" + XmlText(v, "VersionId"));
  }
  for (std::string_view v : XmlElements(answer->body, "DeleteMarker")) {
    if (XmlText(v, "Key") == key) out.push_back("m:" + XmlText(v, "VersionId"));
  }
  return out;
}

// A purge's removal: on a plain bucket the key goes; on an Object Lock bucket a retained
// version stays (hidden, reported with its date, never bypassed) until its date, then every
// version and delete marker goes, so no byte is left behind a marker.
TEST_F(S3BackendTest, RemoveEveryVersionWaitsForRetentionThenLeavesNothing) {
  ASSERT_OK(backend_->Put("blobs/aa/plain", "bytes"));
  ASSERT_OK(backend_->Put("blobs/aa/plainer", "a longer key beside it"));
  auto plain = backend_->RemoveEveryVersion("blobs/aa/plain");
  ASSERT_OK(plain);
  EXPECT_TRUE(plain->gone);
  EXPECT_TRUE(backend_->Stat("blobs/aa/plain").status().IsNotFound());
  EXPECT_OK(backend_->Stat("blobs/aa/plainer").status()) << "only the key itself goes";
  EXPECT_TRUE(backend_->RemoveEveryVersion("blobs/aa/absent")->gone);

  bucket_ = cairn::testing::FreshBucketName();
  auto locked = Open("object-lock=GOVERNANCE&retain=3s");
  ASSERT_OK(locked->CreateBucket(/*object_lock=*/true));
  ASSERT_OK(locked->Put("blobs/bb/locked", "kept three seconds"));
  const int64_t before = static_cast<int64_t>(std::time(nullptr)) * 1'000'000;
  auto waiting = locked->RemoveEveryVersion("blobs/bb/locked");
  ASSERT_OK(waiting);
  EXPECT_FALSE(waiting->gone);
  EXPECT_GT(waiting->retained_until_micros, before);
  EXPECT_LE(waiting->retained_until_micros, before + 10'000'000);
  EXPECT_TRUE(locked->Stat("blobs/bb/locked").status().IsNotFound()) << "hidden while it waits";
  std::vector<std::string> kept = StoredVersions(*locked, locked->ObjectName("blobs/bb/locked"));
  EXPECT_EQ(kept.size(), 2u) << "the retained version and one delete marker";
  auto again = locked->RemoveEveryVersion("blobs/bb/locked");
  ASSERT_OK(again);
  EXPECT_FALSE(again->gone);
  EXPECT_EQ(StoredVersions(*locked, locked->ObjectName("blobs/bb/locked")).size(), 2u)
      << "a retry adds no second marker";

  std::this_thread::sleep_until(std::chrono::system_clock::time_point(
      std::chrono::microseconds(waiting->retained_until_micros + 1'500'000)));
  auto erased = locked->RemoveEveryVersion("blobs/bb/locked");
  ASSERT_OK(erased);
  EXPECT_TRUE(erased->gone);
  EXPECT_TRUE(StoredVersions(*locked, locked->ObjectName("blobs/bb/locked")).empty());
}

TEST_F(S3BackendTest, StoppedGatewayIsUnavailable) {
  // A second, private gateway: stopping the shared one would break other tests.
  cairn::testing::TempDir dir;
  std::string script = std::string(CAIRN_SOURCE_DIR) + "/ops/scripts/";
  auto started = cairn::testing::RunProcess({script + "ceph-rgw-start.sh", (dir / "gw").string()});
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;
  std::string endpoint = started.out.substr(started.out.find("CAIRN_S3_ENDPOINT=") + 18);
  endpoint = endpoint.substr(0, endpoint.find('\n'));
  auto env = [&](const std::string& name) {
    std::string value = started.out.substr(started.out.find(name + "=") + name.size() + 1);
    return value.substr(0, value.find('\n'));
  };
  S3Config config = *ParseS3Url("s3://" + bucket_ + "?endpoint=" + endpoint + "&region=default");
  config.retry_delay_ms = 10;
  S3Backend other(config,
                  S3Credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), ""});
  ASSERT_OK(other.CreateBucket(false));
  ASSERT_OK(other.Put("blobs/k", "bytes"));
  auto stopped = cairn::testing::RunProcess({script + "ceph-rgw-stop.sh", (dir / "gw").string()});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  for (Status status : {other.Stat("blobs/k").status(), other.ReadAll("blobs/k").status(),
                        other.Put("blobs/new", "x"), other.Remove("blobs/k"), other.CleanupTemp(0),
                        other.List("", [](const ObjectInfo&) { return Status::OK(); })}) {
    EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
    EXPECT_TRUE(status.retryable());
  }
}

TEST_F(S3BackendTest, ManyThreadsShareOneBackend) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        std::string value = RandomBytes(1000 + i, t * 100 + i);
        if (!backend_->Put(key, value).ok()) ++failures;
        auto back = backend_->ReadAll(key);
        if (!back.ok() || *back != value) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(RawNames("").size(), 80u);
}

}  // namespace
}  // namespace cairn::repo
