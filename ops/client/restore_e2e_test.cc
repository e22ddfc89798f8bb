// `cairn --server URL restore`, end to end: the real cairn-testing serving a real repository over
// TLS, the real cairn-testing restoring from it. The bag arrives as the local verb makes it (a
// folder or a tar, the same --json and text), checked on arrival; an auditor and another
// partner's depositor get nothing; a damaged copy on one site is read from the other; no good
// copy at all is the local verb's Corruption (exit 1), sent in the server's X-Cairn-Error trailer
// (a client that does not ask for it gets the stream cut); a connection cut mid-way leaves
// nothing at DEST.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "ops/client/api_client.h"
#include "tests/util/repo_fixture.h"
#include "tests/util/serve_test_util.h"

namespace cairn::testing {
namespace {

// A TCP relay on 127.0.0.1 in front of the server that closes both sides once `limit` bytes
// went from the server to the client: a connection cut mid-download (TLS passes through it
// untouched, so the client still verifies the server).
class CuttingRelay {
 public:
  CuttingRelay(int server_port, uint64_t limit) : server_port_(server_port), limit_(limit) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Relay(); });
  }
  ~CuttingRelay() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  int port() const { return port_; }
  uint64_t relayed() const { return relayed_; }

 private:
  void Relay() {
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(server_port_));
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      char buf[16 * 1024];
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      while (relayed_<limit_&& ::poll(fds, 2, 20000)> 0) {
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = ::read(client, buf, sizeof buf);
          if (n <= 0 || ::write(server, buf, n) != n) break;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = ::read(server, buf, sizeof buf);
          if (n <= 0) break;
          size_t pass = static_cast<size_t>(std::min<uint64_t>(n, limit_ - relayed_));
          if (::write(client, buf, pass) != static_cast<ssize_t>(pass)) break;
          relayed_ += pass;
        }
      }
    }
    ::close(server);
    ::close(client);
  }

  int server_port_;
  uint64_t limit_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<uint64_t> relayed_{0};
  std::thread thread_;
};

const std::vector<std::vector<std::string>> kRestorePrincipals = {
    {"t-dep-acme", "dora@acme", "depositor", "acme"},
    {"t-dep-beta", "bert@beta", "depositor", "beta"},
    {"t-auditor", "audrey", "auditor", ""},
};

class RemoteRestoreTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("acme", MakeSourceFolder("acme").string(), "acme-box");
    Deposit("beta", MakeSourceFolder("beta").string(), "beta-box");
    certs_ = MakeTestCertificates(tmp_ / "tls");
    ASSERT_FALSE(certs_.ca.empty()) << "openssl could not make the test certificates";
    for (const std::vector<std::string>& p : kRestorePrincipals) {
      tokens_[p[0]] = AddPrincipalWithToken(p[1], p[2], p[3], "never");
      ASSERT_FALSE(tokens_[p[0]].empty()) << p[1];
    }
    ASSERT_TRUE(server_.Start({"--tls-cert", certs_.cert, "--tls-key", certs_.key},
                              {"CAIRN_REPO=" + Root()}, tmp_ / "serve.log"))
        << ReadFile(tmp_ / "serve.log");
    fs::create_directories(tmp_ / "local");
    fs::create_directories(tmp_ / "remote");
  }

  std::string Server(int port = 0) const {
    return "https://127.0.0.1:" + std::to_string(port ? port : server_.port());
  }

  // cairn-testing ARGS against the server as `who`, with no repository to fall back on.
  CommandResult Remote(const std::string& who, std::vector<std::string> args, int port = 0) {
    args.insert(args.begin(), {"--server", Server(port), "--ca-file", certs_.ca});
    return RunCairn(args, {"CAIRN_TOKEN=" + tokens_[who], "CAIRN_REPO="});
  }

  // No entry of `dir` starts with `name` (DEST, its hidden partial folder, a spool).
  static void ExpectNothingNamed(const fs::path& dir, const std::string& name) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      EXPECT_NE(entry.path().filename().string().rfind(name, 0), 0u) << entry.path();
    }
  }

  static nlohmann::json Parse(const std::string& text) {
    return nlohmann::json::parse(text, nullptr, false);
  }

  TestCertificates certs_;
  TestServer server_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(RemoteRestoreTest, FolderAndTarEqualTheLocalRestore) {
  struct Case {
    std::string ref, dest;
    std::vector<std::string> extra;
  };
  const std::vector<Case> cases = {
      {"acme/acme-box", "out", {"--json"}},
      {"acme/acme-box@v1", "out-v1", {}},
      {"acme/acme-box", "out.tar", {"--json"}},
      {"acme/acme-box@v1", "bag-v1.tgz", {}},
      {"acme/acme-box", "zipped", {"--format", "zip", "--json"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.ref + " " + c.dest);
    std::vector<std::string> local_args = {"restore", c.ref, (tmp_ / "local" / c.dest).string()};
    std::vector<std::string> remote_args = {"restore", c.ref, (tmp_ / "remote" / c.dest).string()};
    local_args.insert(local_args.end(), c.extra.begin(), c.extra.end());
    remote_args.insert(remote_args.end(), c.extra.begin(), c.extra.end());
    CommandResult local = Cairn(local_args);
    ASSERT_EQ(local.exit_code, 0) << local.err;
    CommandResult remote = Remote("t-dep-acme", remote_args);
    ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
    const bool json = !c.extra.empty() && c.extra.back() == "--json";
    if (json) {
      nlohmann::json want = Parse(local.out), got = Parse(remote.out);
      ASSERT_FALSE(got.is_discarded()) << remote.out;
      EXPECT_EQ(got["dest"], (tmp_ / "remote" / c.dest).string());
      want.erase("dest");
      got.erase("dest");
      EXPECT_EQ(got, want) << remote.out;
    } else {
      std::string text = local.out;
      const std::string from = (tmp_ / "local").string(), to = (tmp_ / "remote").string();
      text.replace(text.find(from), from.size(), to);
      EXPECT_EQ(remote.out, text);
    }
    const fs::path l = tmp_ / "local" / c.dest, r = tmp_ / "remote" / c.dest;
    if (fs::is_directory(l)) {
      EXPECT_EQ(ReadTree(r), ReadTree(l));
      EXPECT_EQ(Cairn({"bag", "validate", r.string()}).exit_code, 0);
    } else {
      const std::string top = c.dest.substr(0, c.dest.find('.'));
      EXPECT_EQ(ReadArchive(r, top), ReadArchive(l, top));
      EXPECT_FALSE(ReadArchive(r, top).empty());
    }
  }
  // The download was recorded as the principal's dissemination.
  CommandResult events = Cairn({"events", "acme/acme-box", "--json", "--type", "dissemination"});
  EXPECT_NE(events.out.find("dora@acme"), std::string::npos) << events.out;
}

// A folder's empty folders, deposited through the server (sent as a bag made on the fly) and a
// bag folder's, come back from a remote restore as a folder and in a tar.
TEST_F(RemoteRestoreTest, EmptyFoldersGoAndComeBackThroughTheServer) {
  WriteFile(tmp_ / "box/kept/a.txt", "alpha\n");
  fs::create_directories(tmp_ / "box/empty");
  fs::create_directories(tmp_ / "box/outer/inner");
  ASSERT_EQ(Cairn({"bag", "create", (tmp_ / "box").string(), (tmp_ / "boxbag").string()}).exit_code,
            0);
  fs::create_directories(tmp_ / "boxbag/extra");  // an empty folder of the bag's tag area
  for (const char* source : {"box", "boxbag"}) {
    SCOPED_TRACE(source);
    const bool bag = std::string(source) == "boxbag";
    const std::string object = std::string("up-") + source;
    CommandResult up = Remote(
        "t-dep-acme", {"deposit", "acme", (tmp_ / source).string(), "--id", object, "--json"});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
    const fs::path dir = tmp_ / "remote" / object;
    CommandResult restored = Remote("t-dep-acme", {"restore", "acme/" + object, dir.string()});
    ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
    EXPECT_TRUE(fs::is_directory(dir / "data/empty"));
    EXPECT_TRUE(fs::is_directory(dir / "data/outer/inner"));
    EXPECT_EQ(fs::is_directory(dir / "extra"), bag);
    const fs::path tar = tmp_ / "remote" / (object + ".tar");
    ASSERT_EQ(Remote("t-dep-acme", {"restore", "acme/" + object, tar.string()}).exit_code, 0);
    std::set<std::string> folders;
    auto reader = bagit::ArchiveReader::Open(tar.string());
    ASSERT_OK(reader);
    bagit::ArchiveEntry entry;
    while (true) {
      Result<bool> more = (*reader)->Next(&entry);
      ASSERT_OK(more);
      if (!*more) break;
      if (entry.type == bagit::EntryType::kDirectory) folders.insert(entry.path);
    }
    EXPECT_TRUE(folders.contains(object + "/data/empty/")) << ::testing::PrintToString(folders);
    EXPECT_TRUE(folders.contains(object + "/data/outer/inner/"));
    EXPECT_EQ(folders.contains(object + "/extra/"), bag) << ::testing::PrintToString(folders);
  }
}

TEST_F(RemoteRestoreTest, RefusesAsTheLocalVerb) {
  fs::create_directories(tmp_ / "remote/taken");
  fs::create_directories(tmp_ / "local/taken");
  struct Case {
    std::string ref, dest;
  };
  for (const Case& c : std::vector<Case>{{"acme/acme-box", "taken"},
                                         {"acme/acme-box@v9", "nine"},
                                         {"acme/no-such-box", "none"}}) {
    SCOPED_TRACE(c.ref + " " + c.dest);
    CommandResult local = Cairn({"restore", c.ref, (tmp_ / "local" / c.dest).string()});
    CommandResult remote =
        Remote("t-dep-acme", {"restore", c.ref, (tmp_ / "remote" / c.dest).string(), "--json"});
    EXPECT_NE(local.exit_code, 0);
    EXPECT_EQ(remote.exit_code, local.exit_code) << remote.err;
    EXPECT_EQ(Parse(remote.out)["ok"], false) << remote.out;
    if (c.dest != "taken") ExpectNothingNamed(tmp_ / "remote", c.dest);
  }
  EXPECT_TRUE(fs::is_empty(tmp_ / "remote/taken"));
}

TEST_F(RemoteRestoreTest, AuditorAndOtherPartnersGetNothing) {
  CommandResult auditor =
      Remote("t-auditor", {"restore", "acme/acme-box", (tmp_ / "remote/a").string()});
  EXPECT_EQ(auditor.exit_code, 2);
  EXPECT_NE(auditor.err.find("PermissionDenied"), std::string::npos) << auditor.err;
  HttpAnswer raw =
      Fetch("GET", Server() + "/v1/objects/acme/acme-box/content", certs_.ca, tokens_["t-auditor"]);
  EXPECT_EQ(raw.status, 403);
  EXPECT_EQ(raw.body.find("alpha"), std::string::npos);

  // Another partner's depositor: the same answer for an object that exists and one that does
  // not, so nothing is learnt of what acme holds.
  CommandResult held =
      Remote("t-dep-beta", {"restore", "acme/acme-box", (tmp_ / "remote/b").string()});
  CommandResult absent =
      Remote("t-dep-beta", {"restore", "acme/nothing-here", (tmp_ / "remote/c").string()});
  EXPECT_EQ(held.exit_code, 2);
  EXPECT_EQ(absent.exit_code, held.exit_code);
  EXPECT_NE(held.err.find("PermissionDenied"), std::string::npos) << held.err;
  EXPECT_NE(absent.err.find("PermissionDenied"), std::string::npos) << absent.err;
  for (const std::string& path :
       {"/v1/objects/acme/acme-box/content", "/v1/objects/acme/acme-box/versions/1/content"}) {
    HttpAnswer other = Fetch("GET", Server() + path, certs_.ca, tokens_["t-dep-beta"]);
    EXPECT_TRUE(other.status == 403 || other.status == 404) << other.status;
    EXPECT_EQ(other.body.find("alpha"), std::string::npos);
  }
  EXPECT_TRUE(fs::is_empty(tmp_ / "remote"));
  // Beta restores its own.
  CommandResult own =
      Remote("t-dep-beta", {"restore", "beta/beta-box", (tmp_ / "remote/own").string()});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(ReadTree(tmp_ / "remote/own/data"), ReadTree(tmp_ / "src-beta"));
}

TEST_F(RemoteRestoreTest, DamagedCopyOnOneSiteIsRestoredFromTheOther) {
  const std::string content = ReadFile(tmp_ / "src-acme/sub/b.bin");
  FlipByte(BlobFile("a", content));
  CommandResult r = Remote(
      "t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote/out.tar").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadArchive(tmp_ / "remote/out.tar", "out")["data/sub/b.bin"], content);
  nlohmann::json report = Parse(r.out);
  ASSERT_EQ(report["problems"].size(), 1u) << r.out;
  EXPECT_EQ(report["problems"][0]["site"], "a");
  EXPECT_EQ(report["problems"][0]["outcome"], "corrupt");
  EXPECT_EQ(report["problems"][0]["path"], "data/sub/b.bin");
  EXPECT_EQ(report["repairs_queued"], 1);
  EXPECT_EQ(CopyStates("acme/acme-box", "data/sub/b.bin"), "a:corrupt b:ok");
  // The text form names the site on stderr as the local verb does.
  CommandResult text =
      Remote("t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote/again").string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(ReadTree(tmp_ / "remote/again/data"), ReadTree(tmp_ / "src-acme"));
}

// No good copy of some file, met after the server answered 200: the local verb says
// "Corruption: no good copy of data/sub/b.bin ..." (exit 1), the remote one said "Unavailable:
// ... was cut before its end: transfer closed with outstanding read data remaining" (exit 2).
// The client asks for a failure in a trailer (?on-error=trailer): the server ends the answer with
// X-Cairn-Error, and the client exits as the local verb does, with its words, leaving nothing at
// DEST. A client that does not ask still gets the answer cut, never one it could take for whole.
TEST_F(RemoteRestoreTest, NoGoodCopyExitsOneWithTheLocalWordsAndIsRecordedAsLocally) {
  const std::string content = ReadFile(tmp_ / "src-acme/sub/b.bin");
  FlipByte(BlobFile("a", content));
  fs::remove(BlobFile("b", content));
  std::vector<std::string> errors;
  for (const std::string dest : {"out", "out.tar"}) {
    SCOPED_TRACE(dest);
    CommandResult r =
        Remote("t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote" / dest).string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("Corruption: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was left"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("cut"), std::string::npos) << r.err;
    errors.push_back(r.err);
    ExpectNothingNamed(tmp_ / "remote", "out");
  }
  CommandResult json =
      Remote("t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote/out").string(), "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  nlohmann::json doc = Parse(json.out);
  EXPECT_EQ(doc["ok"], false) << json.out;
  EXPECT_EQ(doc["error"]["code"], "Corruption") << json.out;
  EXPECT_EQ(doc["error"]["exit_code"], 1) << json.out;
  ExpectNothingNamed(tmp_ / "remote", "out");
  // Recorded as a local restore records it: the bad copies, a failed dissemination.
  EXPECT_EQ(CopyStates("acme/acme-box", "data/sub/b.bin"), "a:corrupt b:missing");
  CommandResult events = Cairn({"events", "acme/acme-box", "--json", "--type", "dissemination"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_NE(events.out.find("failure"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("dora@acme"), std::string::npos) << events.out;
  // The local verb's words, from "no good copy" to the end of its line, are the remote one's.
  CommandResult local = Cairn({"restore", "acme/acme-box", (tmp_ / "local/out").string()});
  ASSERT_EQ(local.exit_code, 1) << local.err;
  const size_t at = local.err.find("no good copy of data/sub/b.bin");
  ASSERT_NE(at, std::string::npos) << local.err;
  const std::string words = local.err.substr(at, local.err.find('\n', at) - at);
  for (const std::string& err : errors) EXPECT_NE(err.find(words), std::string::npos) << err;
  // A client that does not ask for the trailer (curl, a script) gets the answer cut.
  auto api = client::ApiClient::Create({Server(), tokens_["t-dep-acme"], certs_.ca});
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  uint64_t received = 0;
  auto cut = (*api)->GetStream("/v1/objects/acme/acme-box/content", [&](std::string_view chunk) {
    received += chunk.size();
    return Status::OK();
  });
  EXPECT_FALSE(cut.ok());
  EXPECT_TRUE(cut.status().IsUnavailable()) << cut.status().ToString();
  EXPECT_NE(server_.Log().find("cut after"), std::string::npos) << server_.Log();
  // The server keeps serving. (beta's box shares the damaged file's blob: it cannot be restored.)
  CommandResult list = Remote("t-dep-beta", {"usage", "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
}

// Every site holding a version's copies down (nothing corrupt): restore said "Corruption" (exit
// 1), and named as "missing" site b, which acme's policy (sites a and c) never used, only tried
// by key in case it held the bytes unrecorded. It is now Unavailable (exit 2), naming the sites
// that hold copies and saying to retry, locally and remotely, nothing left at DEST. With one of
// them back, holding a corrupt copy, it is Corruption (exit 1) as before, naming the site down
// and the corrupt copy, and never b.
TEST_F(RemoteRestoreTest, EveryHoldingSiteDownIsUnavailableNotCorruption) {
  const fs::path sites = fs::path(Root()) / "sites";
  ASSERT_EQ(Cairn({"site", "add", "c", "file://" + (sites / "c").string()}).exit_code, 0);
  WriteFile(tmp_ / "policy-ac.textpb", "copies: 2 sites: \"a\" sites: \"c\"\n");
  ASSERT_EQ(
      Cairn({"policy", "set", (tmp_ / "policy-ac.textpb").string(), "--partner", "acme"}).exit_code,
      0);
  const std::string content = "on sites a and c only\n";
  WriteFile(tmp_ / "src-ac/x.txt", content);
  Deposit("acme", (tmp_ / "src-ac").string(), "ac-box");
  ASSERT_EQ(CopyStates("acme/ac-box", "data/x.txt"), "a:ok c:ok");
  const fs::path blob_on_c = BlobFile("c", content);
  for (const std::string site : {"a", "c"}) {  // unmounted shares
    fs::rename(sites / site, tmp_ / (site + "-away"));
    fs::create_directories(sites / site);
  }
  auto expect_no_b = [](const std::string& err) {
    EXPECT_EQ(err.find("site b"), std::string::npos) << err;
  };
  for (const std::string dest : {"down", "down.tar"}) {
    SCOPED_TRACE(dest);
    CommandResult local = Cairn({"restore", "acme/ac-box", (tmp_ / "local" / dest).string()});
    CommandResult remote =
        Remote("t-dep-acme", {"restore", "acme/ac-box", (tmp_ / "remote" / dest).string()});
    for (const CommandResult& r : {local, remote}) {
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_NE(r.err.find("Unavailable: "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("no site holding a copy of version.pb could be opened (a, c); retry "
                           "when they are back"),
                std::string::npos)
          << r.err;
      EXPECT_EQ(r.err.find("Corruption"), std::string::npos) << r.err;
      expect_no_b(r.err);
    }
    ExpectNothingNamed(tmp_ / "local", "down");
    ExpectNothingNamed(tmp_ / "remote", "down");
  }
  CommandResult json =
      Remote("t-dep-acme", {"restore", "acme/ac-box", (tmp_ / "remote/down").string(), "--json"});
  EXPECT_EQ(json.exit_code, 2) << json.err;
  EXPECT_EQ(Parse(json.out)["error"]["code"], "Unavailable") << json.out;
  EXPECT_EQ(Parse(json.out)["error"]["exit_code"], 2) << json.out;
  ExpectNothingNamed(tmp_ / "remote", "down");
  // Nothing was called bad: the copies' states are as they were.
  EXPECT_EQ(CopyStates("acme/ac-box", "data/x.txt"), "a:ok c:ok");

  // Site c back with a corrupt copy, a still down: a copy read and found wrong is Corruption.
  fs::remove(sites / "c");
  fs::rename(tmp_ / "c-away", sites / "c");
  FlipByte(blob_on_c);
  for (const std::string dest : {"mix", "mix.tar"}) {
    SCOPED_TRACE(dest);
    CommandResult local = Cairn({"restore", "acme/ac-box", (tmp_ / "local" / dest).string()});
    CommandResult remote =
        Remote("t-dep-acme", {"restore", "acme/ac-box", (tmp_ / "remote" / dest).string()});
    for (const CommandResult& r : {local, remote}) {
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("Corruption: "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("no good copy of data/x.txt"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("site a: unavailable"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("site c: corrupt"), std::string::npos) << r.err;
      expect_no_b(r.err);
    }
    ExpectNothingNamed(tmp_ / "local", "mix");
    ExpectNothingNamed(tmp_ / "remote", "mix");
  }
  EXPECT_EQ(CopyStates("acme/ac-box", "data/x.txt"), "a:ok c:corrupt");
  fs::remove(sites / "a");
  fs::rename(tmp_ / "a-away", sites / "a");
}

TEST_F(RemoteRestoreTest, CutConnectionLeavesNoDest) {
  // A version large enough to be cut well inside its payload.
  const fs::path big = tmp_ / "src-big";
  std::string bytes(6 << 20, '\0');
  uint32_t x = 12345;
  for (char& c : bytes) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  WriteFile(big / "big.bin", bytes);
  WriteFile(big / "small.txt", "small\n");
  Deposit("acme", big.string(), "big-box");
  for (const std::string dest : {"cut", "cut.tar"}) {
    SCOPED_TRACE(dest);
    CuttingRelay relay(server_.port(), 2 << 20);
    CommandResult r = Remote(
        "t-dep-acme", {"restore", "acme/big-box", (tmp_ / "remote" / dest).string()}, relay.port());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("cut"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was left"), std::string::npos) << r.err;
    EXPECT_GT(relay.relayed(), 1u << 20);
    ExpectNothingNamed(tmp_ / "remote", "cut");
  }
  // The server keeps serving; the rerun completes.
  CommandResult again =
      Remote("t-dep-acme", {"restore", "acme/big-box", (tmp_ / "remote/cut").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadFile(tmp_ / "remote/cut/data/big.bin"), bytes);
}

// A catalog put back from a backup taken before a withdrawal still lists the version as live;
// the sites' tombstone outranks it. The local restore refuses (Withdrawn, exit 1, naming the
// tombstone and the rebuild); the server answered 200 and cut the stream after 0 bytes, and the
// client said "transfer closed with outstanding read data remaining" (exit 2). Now the server
// refuses before the answer's headers, as the local verb does: 410, the same words, exit 1.
TEST_F(RemoteRestoreTest, AVersionWithdrawnAfterTheCatalogsBackupIsRefusedAsLocally) {
  const std::string ann = AddPrincipalWithToken("ann@acme", "partner-admin", "acme");
  ASSERT_FALSE(ann.empty());
  const fs::path backup = tmp_ / "catalog-backup.db";
  BackUpCatalog(backup);
  CommandResult request = RunCairn(
      {"withdraw", "request", "acme/acme-box", "--reason", "consent withdrawn", "--as", "ann@acme"},
      {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + ann});
  ASSERT_EQ(request.exit_code, 0) << request.err;
  ASSERT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 0);
  PutCatalogBack(backup);
  CommandResult local = Cairn({"restore", "acme/acme-box", (tmp_ / "local/out").string()});
  ASSERT_EQ(local.exit_code, 1) << local.err;
  const std::string said = "bags/acme/acme-box/v1/WITHDRAWN is the tombstone of this version";
  ASSERT_NE(local.err.find(said), std::string::npos) << local.err;
  for (const std::string ref : {"acme/acme-box", "acme/acme-box@v1"}) {
    SCOPED_TRACE(ref);
    CommandResult remote = Remote("t-dep-acme", {"restore", ref, (tmp_ / "remote/out").string()});
    EXPECT_EQ(remote.exit_code, 1) << remote.err;
    EXPECT_NE(remote.err.find("Withdrawn"), std::string::npos) << remote.err;
    EXPECT_NE(remote.err.find(said), std::string::npos) << remote.err;
    // The rebuild is the operator's, on the server's host: named as its task, not its command.
    EXPECT_NE(remote.err.find("the consortium's operator must bring the catalog up to date"),
              std::string::npos)
        << remote.err;
    EXPECT_EQ(remote.err.find("cairn catalog rebuild"), std::string::npos) << remote.err;
    ExpectNothingNamed(tmp_ / "remote", "out");
  }
  HttpAnswer raw = Fetch("GET", Server() + "/v1/objects/acme/acme-box/versions/1/content",
                         certs_.ca, tokens_["t-dep-acme"]);
  EXPECT_EQ(raw.status, 410) << raw.body;
  EXPECT_NE(raw.body.find("\"Withdrawn\""), std::string::npos) << raw.body;
}

// An object deposited after the catalog's backup, the backup then put back: only the sites hold
// it. The local show and restore say which sites hold it, that the catalog is older than the
// sites and which rebuild catches up; remotely the answer was "server: no object acme/after".
// Now the server says the same (the partner's own principals; another partner's learns nothing).
TEST_F(RemoteRestoreTest, AnObjectOnlyTheSitesHoldIsNamedAsLocally) {
  const fs::path backup = tmp_ / "catalog-backup.db";
  BackUpCatalog(backup);
  Deposit("acme", MakeSourceFolder("after").string(), "after");
  PutCatalogBack(backup);
  const std::string said = "sites a and b hold acme/after v1: the catalog is older than the sites";
  // The rebuild, to a partner's principal: the operator's task, without the operator's command.
  const std::string rebuild = "the consortium's operator must bring the catalog up to date";
  CommandResult local_show = Cairn({"show", "acme/after"});
  CommandResult local_restore = Cairn({"restore", "acme/after", (tmp_ / "local/a").string()});
  for (const CommandResult* local : {&local_show, &local_restore}) {
    ASSERT_NE(local->exit_code, 0);
    ASSERT_NE(local->err.find(said), std::string::npos) << local->err;
  }
  CommandResult show = Remote("t-dep-acme", {"show", "acme/after"});
  EXPECT_EQ(show.exit_code, local_show.exit_code) << show.err;
  EXPECT_NE(show.err.find(said), std::string::npos) << show.err;
  EXPECT_NE(show.err.find(rebuild), std::string::npos) << show.err;
  CommandResult restore =
      Remote("t-dep-acme", {"restore", "acme/after", (tmp_ / "remote/a").string()});
  EXPECT_EQ(restore.exit_code, local_restore.exit_code) << restore.err;
  EXPECT_NE(restore.err.find(said), std::string::npos) << restore.err;
  EXPECT_NE(restore.err.find(rebuild), std::string::npos) << restore.err;
  for (const CommandResult* r : {&show, &restore}) {
    EXPECT_EQ(r->err.find("cairn catalog rebuild"), std::string::npos) << r->err;
  }
  ExpectNothingNamed(tmp_ / "remote", "a");
  // Another partner's depositor learns nothing of acme's objects, held or not.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"show", "acme/after"}, {"restore", "acme/after", (tmp_ / "remote/b").string()}}) {
    CommandResult other = Remote("t-dep-beta", args);
    EXPECT_NE(other.exit_code, 0);
    EXPECT_EQ(other.err.find("after v1"), std::string::npos) << other.err;
    EXPECT_EQ(other.err.find("older than the sites"), std::string::npos) << other.err;
  }
}

// A restore that fails after the server answered 200 (no good copy of a file) records what a
// local one records (the bad copies met, a failed dissemination) and copies those events to the
// sites' logs; the local verb says what it says of that before its error ("the new events were
// not copied: site b: ..." when site b's log refuses them). The server's failed stream ended
// with the X-Cairn-Error trailer alone: the remote restore said the error and nothing of its
// events. It now ends with the X-Cairn-Warnings trailer too, which the client prints before the
// error, in the caller's terms; the exit code is the error's (1), as locally.
TEST_F(RemoteRestoreTest, AFailedRestoreSaysWhatItsEventsDidAsLocally) {
  const fs::path b_events = fs::path(Root()) / "sites/b/events";
  fs::remove_all(b_events);
  WriteFile(b_events, "not the event log's folder\n");  // no segment can be linked there
  const std::string content = ReadFile(tmp_ / "src-acme/sub/b.bin");
  FlipByte(BlobFile("a", content));
  fs::remove(BlobFile("b", content));
  const std::string words = "cairn: the new events were not copied: site b";
  CommandResult local = Cairn({"restore", "acme/acme-box", (tmp_ / "local/out").string()});
  ASSERT_EQ(local.exit_code, 1) << local.err;
  ASSERT_NE(local.err.find(words), std::string::npos) << local.err;
  ASSERT_LT(local.err.find(words), local.err.find("Corruption: ")) << local.err;
  for (const std::string dest : {"out", "out.tar"}) {
    SCOPED_TRACE(dest);
    CommandResult r =
        Remote("t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote" / dest).string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("; the consortium's operator sees that they are written there\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("Corruption: "), std::string::npos) << r.err;
    EXPECT_LT(r.err.find(words), r.err.find("Corruption: ")) << r.err;
    EXPECT_EQ(r.err.find(Root()), std::string::npos) << r.err;
    ExpectNothingNamed(tmp_ / "remote", "out");
  }
  CommandResult json =
      Remote("t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote/out").string(), "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  EXPECT_EQ(Parse(json.out)["error"]["code"], "Corruption") << json.out;
  EXPECT_NE(json.err.find(words), std::string::npos) << json.err;
  // Site b's log takes writes again: the next restore's flush catches it up, nothing said of it.
  fs::remove(b_events);
  CommandResult again =
      Remote("t-dep-acme", {"restore", "acme/acme-box", (tmp_ / "remote/again").string()});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_EQ(again.err.find("not copied"), std::string::npos) << again.err;
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
