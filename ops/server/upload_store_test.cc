// UploadStore on a real folder with an injected clock: resume keys find the caller's upload
// only, parts are recorded only with their digest, expiry removes idle uploads, a completion
// cut short is finished by looking for its version first; and the route table sends
// ".../{upload}/complete" to its own route, not to "/v1/uploads/{partner}/{object}".
#include "ops/server/upload_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bagit/digest.h"
#include "ops/server/api_routes.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::server {
namespace {

std::string HexSha256(const std::string& bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

class UploadStoreTest : public ::testing::Test {
 protected:
  UploadStoreTest() : root_(dir_.path().string()) {}

  std::unique_ptr<UploadStore> Store() {
    UploadOptions o;
    o.part_size = 4;
    o.expiry_micros = 1000;
    o.now = [this] { return now_; };
    return std::make_unique<UploadStore>(root_, o);
  }
  // Writes `bytes` where part n goes, as the server does before RecordPart.
  void WritePart(UploadStore& store, const repo::Principal& who, const std::string& id, uint32_t n,
                 const std::string& bytes) {
    auto target = store.PartTargetFor(who, id, n);
    ASSERT_OK(target);
    int fd = ::open(target->path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(target->offset)),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    store.ReleasePart(id, n);
  }

  testing::TempDir dir_;
  std::string root_;
  int64_t now_ = 1000000;
  repo::Principal dora_{"dora@acme", repo::Role::kDepositor, "acme", false};
  repo::Principal dan_{"dan@acme", repo::Role::kDepositor, "acme", false};
};

TEST_F(UploadStoreTest, ResumeKeysPartsAndOwners) {
  auto store = Store();
  bool created = false;
  auto u = store->Begin(dora_, "acme", "box", "application/x-tar", 6, 0, "key", &created);
  ASSERT_OK(u);
  EXPECT_TRUE(created);
  auto again = store->Begin(dora_, "acme", "box", "application/x-tar", 6, 0, "key", &created);
  ASSERT_OK(again);
  EXPECT_FALSE(created);
  EXPECT_EQ(again->id, u->id);
  // Another principal with the same key gets its own upload, and cannot see dora's.
  auto dans = store->Begin(dan_, "acme", "box", "application/x-tar", 6, 0, "key", &created);
  ASSERT_OK(dans);
  EXPECT_NE(dans->id, u->id);
  EXPECT_TRUE(store->Get(dan_, u->id).status().IsNotFound());
  EXPECT_TRUE(store->PartTargetFor(dan_, u->id, 1).status().IsNotFound());
  // A bad digest records nothing; the right one records the part; a second sender is refused.
  WritePart(*store, dora_, u->id, 1, "abcd");
  EXPECT_EQ(store->RecordPart(dora_, u->id, 1, 4, HexSha256("abce")).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(store->Get(dora_, u->id)->parts.empty());
  WritePart(*store, dora_, u->id, 1, "abcd");
  ASSERT_OK(store->RecordPart(dora_, u->id, 1, 4, HexSha256("abcd")));
  EXPECT_EQ(store->PartTargetFor(dora_, u->id, 1).status().code(), Code::kAlreadyExists);
  ASSERT_OK(store->PartTargetFor(dora_, u->id, 2));
  EXPECT_EQ(store->PartTargetFor(dora_, u->id, 2).status().code(), Code::kAlreadyExists);
  store->ReleasePart(u->id, 2);
  EXPECT_EQ(store->PartTargetFor(dora_, u->id, 3).status().code(), Code::kInvalidArgument);
}

// An upload of unknown size (a folder made into a tar as it is sent) past max_upload_bytes:
// refused at the part that crosses the limit with the words a known size gets at the start
// (it said "parts are numbered 1 to N"), and removed, nothing of it left.
TEST_F(UploadStoreTest, AnUploadOfUnknownSizeIsRefusedAtTheLimitAndRemoved) {
  UploadOptions o;
  o.part_size = 4;
  o.max_upload_bytes = 10;
  UploadStore store(root_, o);
  bool created = false;
  EXPECT_NE(store.Begin(dora_, "acme", "box", "application/x-tar", 11, 0, "", &created)
                .status()
                .message()
                .find("the upload is 11 bytes: larger than the server's 10 byte limit"),
            std::string::npos);
  EXPECT_NE(store.Begin(dora_, "acme", "box", "application/x-tar", std::nullopt, 12, "", &created)
                .status()
                .message()
                .find("the upload is at least 12 bytes: larger than the server's 10 byte limit "
                      "(cairn serve --max-upload)"),
            std::string::npos);
  // A part that crosses the limit, then a part that begins past it.
  for (uint32_t last : {3u, 4u}) {
    auto u = store.Begin(dora_, "acme", "box", "application/x-tar", std::nullopt, 0, "", &created);
    ASSERT_OK(u);
    WritePart(store, dora_, u->id, 1, "abcd");
    ASSERT_OK(store.RecordPart(dora_, u->id, 1, 4, HexSha256("abcd")));
    WritePart(store, dora_, u->id, 2, "efgh");
    ASSERT_OK(store.RecordPart(dora_, u->id, 2, 4, HexSha256("efgh")));
    Status refused = Status::OK();
    if (last == 3) {
      WritePart(store, dora_, u->id, 3, "ijkl");
      refused = store.RecordPart(dora_, u->id, 3, 4, HexSha256("ijkl")).status();
      EXPECT_NE(refused.message().find("at least 12 bytes"), std::string::npos)
          << refused.ToString();
    } else {
      refused = store.PartTargetFor(dora_, u->id, 4).status();
      EXPECT_NE(refused.message().find("at least 13 bytes"), std::string::npos)
          << refused.ToString();
    }
    EXPECT_EQ(refused.code(), Code::kInvalidArgument);
    EXPECT_NE(refused.message().find("--max-upload"), std::string::npos) << refused.ToString();
    // Asked about again, the upload is the refusal, not "no upload".
    Status gone = store.Get(dora_, u->id).status();
    EXPECT_EQ(gone.code(), Code::kInvalidArgument) << gone.ToString();
    EXPECT_EQ(gone.message(), "upload " + u->id + " was refused: " + refused.message());
    EXPECT_FALSE(std::filesystem::exists(store.Dir() + "/" + u->id));
  }
}

// A part whose body was arriving when another part of its upload was refused past the limit
// (and the upload removed) found its file gone: the server answered 500 "cannot spool the
// upload: No such file or directory", which reads as a fault of the server. The upload's folder
// now stays until its last arriving part is done, and that part is told why the upload went.
TEST_F(UploadStoreTest, APartArrivingBesideOneRefusedPastTheLimitIsToldWhy) {
  UploadOptions o;
  o.part_size = 4;
  o.max_upload_bytes = 10;
  UploadStore store(root_, o);
  bool created = false;
  auto u = store.Begin(dora_, "acme", "box", "application/x-tar", std::nullopt, 0, "", &created);
  ASSERT_OK(u);
  WritePart(store, dora_, u->id, 1, "abcd");
  ASSERT_OK(store.RecordPart(dora_, u->id, 1, 4, HexSha256("abcd")));
  // Part 2 is admitted (its body is about to be read), then part 4 is refused beside it.
  auto beside = store.PartTargetFor(dora_, u->id, 2);
  ASSERT_OK(beside);
  Status refused = store.PartTargetFor(dora_, u->id, 4, 4).status();
  EXPECT_EQ(refused.code(), Code::kInvalidArgument) << refused.ToString();
  // The server now writes part 2's body where it was told to.
  int fd = ::open(beside->path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << beside->path << ": " << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd, "efgh", 4, static_cast<off_t>(beside->offset)), 4);
  ::close(fd);
  Status told = store.RecordPart(dora_, u->id, 2, 4, HexSha256("efgh")).status();
  EXPECT_EQ(told.code(), Code::kInvalidArgument) << told.ToString();
  EXPECT_NE(told.message().find("upload " + u->id + " was refused"), std::string::npos)
      << told.ToString();
  EXPECT_NE(told.message().find("at least 16 bytes: larger than the server's 10 byte limit"),
            std::string::npos)
      << told.ToString();
  store.ReleasePart(u->id, 2);
  // Nothing of it is kept; whatever else is asked of it gets the same refusal.
  EXPECT_FALSE(std::filesystem::exists(store.Dir() + "/" + u->id));
  EXPECT_EQ(store.PartTargetFor(dora_, u->id, 3).status().message(), told.message());
  EXPECT_EQ(store.Get(dora_, u->id).status().message(), told.message());
  EXPECT_TRUE(store.Get(dan_, u->id).status().IsNotFound());  // still nobody else's
}

// Completing while a part still arrives (another command sending the same source) is a 409
// marked retryable, so that the client waits for the other instead of failing; a refusal that
// stands has no such mark.
TEST_F(UploadStoreTest, CompletingWhileAPartArrivesIsARetryableConflict) {
  auto store = Store();
  bool created = false;
  auto u = store->Begin(dora_, "acme", "box", "application/x-tar", 8, 0, "key", &created);
  ASSERT_OK(u);
  WritePart(*store, dora_, u->id, 1, "abcd");
  ASSERT_OK(store->RecordPart(dora_, u->id, 1, 4, HexSha256("abcd")));
  ASSERT_OK(store->PartTargetFor(dora_, u->id, 2));  // arriving on another connection
  auto never = [](const Upload&, const std::string&, const std::string&) -> Result<ApiResponse> {
    return Status::Unavailable("not called");
  };
  auto none = [](const Upload&, const std::string&) -> Result<std::optional<ApiResponse>> {
    return std::optional<ApiResponse>();
  };
  Status busy = store->Complete(dora_, u->id, "r1", never, none).status();
  EXPECT_TRUE(busy.IsAlreadyExists()) << busy.ToString();
  EXPECT_TRUE(busy.retryable());
  EXPECT_NE(ErrorResponse(busy, "r1").body.find(R"("retryable":true)"), std::string::npos);
  EXPECT_EQ(ErrorResponse(Status::AlreadyExists("stands"), "r2").body.find("retryable"),
            std::string::npos);
}

TEST_F(UploadStoreTest, ACutShortCompletionLooksForItsVersionFirst) {
  auto store = Store();
  bool created = false;
  auto u = store->Begin(dora_, "acme", "box", "application/x-tar", 4, 0, "", &created);
  ASSERT_OK(u);
  WritePart(*store, dora_, u->id, 1, "wxyz");
  ASSERT_OK(store->RecordPart(dora_, u->id, 1, 4, HexSha256("wxyz")));
  int deposits = 0, finds = 0;
  auto fail = [&](const Upload&, const std::string&, const std::string&) -> Result<ApiResponse> {
    ++deposits;
    return Status::Unavailable("no site");
  };
  auto none = [&](const Upload&, const std::string&) -> Result<std::optional<ApiResponse>> {
    ++finds;
    return std::optional<ApiResponse>();
  };
  // A deposit that could not run leaves the upload open (not "completing").
  EXPECT_FALSE(store->Complete(dora_, u->id, "r1", fail, none).ok());
  EXPECT_EQ(store->Get(dora_, u->id)->phase, "open");
  EXPECT_EQ(finds, 0);
  // A server that died during the deposit left "completing": a fresh store looks first.
  Upload stuck = *store->Get(dora_, u->id);
  stuck.phase = "completing";
  testing::WriteFile(root_ + "/tmp/uploads/" + u->id + "/state.json", stuck.ToJson().dump());
  auto found = [&](const Upload&, const std::string&) -> Result<std::optional<ApiResponse>> {
    ++finds;
    ApiResponse r = JsonResponse(R"({"stored": true, "recovered": true})");
    r.status = 201;
    return std::optional<ApiResponse>(r);
  };
  auto fresh = Store();
  auto answer = fresh->Complete(dora_, u->id, "r2", fail, found);
  ASSERT_OK(answer);
  EXPECT_EQ(answer->status, 201);
  EXPECT_EQ(deposits, 1);  // only the first, failed one
  EXPECT_EQ(finds, 1);
  // Completed: the answer is kept (not the archive), and given again.
  EXPECT_EQ(fresh->Get(dora_, u->id)->phase, "completed");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/tmp/uploads/" + u->id + "/bag.tar"));
  auto twice = fresh->Complete(dora_, u->id, "r3", fail, none);
  ASSERT_OK(twice);
  EXPECT_EQ(twice->body, answer->body);
  EXPECT_EQ(deposits, 1);
}

TEST_F(UploadStoreTest, IdleUploadsExpire) {
  auto store = Store();
  bool created = false;
  auto old_one = store->Begin(dora_, "acme", "a", "application/zip", std::nullopt, 0, "", &created);
  ASSERT_OK(old_one);
  now_ += 600;
  auto young = store->Begin(dora_, "acme", "b", "application/zip", std::nullopt, 0, "", &created);
  ASSERT_OK(young);
  now_ += 600;  // the first is 1200 us idle, the second 600 us: expiry 1000 us
  auto removed = store->Sweep();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 1u);
  EXPECT_TRUE(store->Get(dora_, old_one->id).status().IsNotFound());
  ASSERT_OK(store->Get(dora_, young->id));
}

TEST(UploadRoutesTest, CompleteIsNotTakenForAnObjectNamedComplete) {
  Router router = MakeApiRouter("/nonexistent");
  auto complete = router.Find("POST", "/v1/uploads/0123456789abcdef0123456789abcdef/complete");
  ASSERT_OK(complete);
  EXPECT_EQ(complete->route->pattern, "/v1/uploads/{upload}/complete");
  auto object = router.Find("POST", "/v1/uploads/acme/complete");
  ASSERT_OK(object);
  EXPECT_EQ(object->route->pattern, "/v1/uploads/{partner}/{object}");
  EXPECT_EQ(object->path.at("object"), "complete");
  EXPECT_FALSE(router.Find("GET", "/v1/uploads/..%2Fetc").ok());
}

}  // namespace
}  // namespace cairn::server
