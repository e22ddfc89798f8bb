// `cairn serve [--listen ADDRESS:PORT] --tls-cert FILE --tls-key FILE | --plain-http`: the
// HTTPS JSON API (issue 17, ops/server/, docs/API.md). Parses flags, builds the server's
// authenticator and routes, and runs it until SIGTERM.
#include <sys/stat.h>

#include <boost/filesystem.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "audit/schedule.h"
#include "bagit/units.h"
#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"
#include "ops/server/api_routes.h"
#include "ops/server/http_server.h"
#include "repo/access/tokens.h"
#include "repo/catalog/catalog.h"
#include "repo/principal.h"
#include "repo/site/repository.h"
#include "repo/site/repository_layout.h"
#include "repo/site/settings.h"

namespace cairn::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:8443";
  std::string tls_cert, tls_key;
  bool plain_http = false;
  std::string max_body = "1M";
  std::string max_upload = "64G";
  std::string upload_expiry = "24h";
  std::string upload_part_size = "32M";
  std::string max_header = "16K";
  double header_timeout = 30, body_timeout = 120;
  size_t max_connections = 256;
  size_t max_connections_per_address = 64;
  int threads = 4;
};

// "127.0.0.1:8443" or "[::1]:8443" into its parts.
Status ParseListen(const std::string& text, server::ServerOptions* options) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Status::InvalidArgument("--listen " + text + ": expected ADDRESS:PORT");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoul(port) > 65535) {
    return Status::InvalidArgument("--listen " + text + ": the port must be 0 to 65535");
  }
  options->address = host;
  options->port = static_cast<uint16_t>(std::stoul(port));
  return Status::OK();
}

// The catalog file's identity: a catalog put in its place (`catalog rebuild --force`, a backup
// put back) is another file.
std::pair<dev_t, ino_t> CatalogFileId(const std::string& root) {
  struct stat st;
  const std::string path = root + "/" + std::string(repo::kCatalogFileName);
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

// Authenticates bearer tokens against the catalog of `repository` (repo/access/tokens.h), one
// at a time: the catalog handle is not shared between threads. When the catalog file is
// replaced, the repository is opened again first: the server kept the old file open, so the
// tokens of the catalog replaced went on working (not revocable any more) and new ones did not.
// A principal some site records a change of that the catalog never saw (a catalog put back from
// a backup older than `principal disable`, a role change) is refused, naming the rebuild: the
// old catalog would let a disabled principal's tokens in again.
server::Authenticator MakeAuthenticator(const std::string& root,
                                        std::unique_ptr<repo::Repository> opened) {
  struct State {
    std::mutex mu;
    std::unique_ptr<repo::Repository> repository;
    std::pair<dev_t, ino_t> file;
    std::map<std::string, std::string> changed_on_sites;  // principal -> what the site holds
    void Opened() {
      Result<std::map<std::string, std::string>> changed =
          repo::SettingsChangedPastCatalog(*repository, "principals");
      changed_on_sites =
          changed.ok() ? std::move(changed).value() : std::map<std::string, std::string>{};
    }
  };
  auto state = std::make_shared<State>();
  state->file = CatalogFileId(root);
  state->repository = std::move(opened);
  state->Opened();
  return [root, state](std::string_view bearer) -> Result<repo::Principal> {
    std::lock_guard<std::mutex> lock(state->mu);
    if (std::pair<dev_t, ino_t> now = CatalogFileId(root); now != state->file) {
      state->repository.reset();  // the old file's handle closes before the new one opens
      Result<std::unique_ptr<repo::Repository>> reopened = repo::Repository::Open(root);
      if (!reopened.ok()) {
        return Status::Unavailable("the catalog was replaced and cannot be opened again: " +
                                   reopened.status().message());
      }
      state->repository = std::move(*reopened);
      state->file = now;
      state->Opened();
    }
    if (!state->repository) return Status::Unavailable("the catalog cannot be opened");
    repo::Catalog& catalog = state->repository->catalog();
    CAIRN_ASSIGN_OR_RETURN(
        repo::Principal principal,
        repo::access::AuthenticateToken(catalog, bearer, catalog.clock().NowMicros()));
    if (auto it = state->changed_on_sites.find(principal.name);
        it != state->changed_on_sites.end()) {
      return Status::Unauthenticated(
          "principal " + principal.name +
          " is refused until the operator brings the catalog up to date: " + it->second);
    }
    return principal;
  };
}

int RunServe(const ServeFlags& f, const Globals& g) {
  server::ServerOptions options;
  if (Status s = ParseListen(f.listen, &options); !s.ok()) return ReportError(s);
  options.tls_cert = f.tls_cert;
  options.tls_key = f.tls_key;
  options.plain_http = f.plain_http;
  // Every size reads as ParseByteSize reads it: 1M = 1 MiB, 1MB = 1,000,000 bytes.
  Result<uint64_t> max_body = ParseByteSize(f.max_body);
  if (!max_body.ok()) return ReportError(max_body.status().WithContext("--max-body"));
  options.max_body_bytes = *max_body;
  Result<uint64_t> max_upload = ParseByteSize(f.max_upload);
  if (!max_upload.ok()) return ReportError(max_upload.status().WithContext("--max-upload"));
  options.max_upload_bytes = *max_upload;
  Result<uint64_t> max_header = ParseByteSize(f.max_header);
  if (!max_header.ok()) return ReportError(max_header.status().WithContext("--max-header"));
  options.max_header_bytes = *max_header;
  options.header_timeout = std::chrono::milliseconds(static_cast<int64_t>(f.header_timeout * 1000));
  options.body_timeout = std::chrono::milliseconds(static_cast<int64_t>(f.body_timeout * 1000));
  options.max_connections = f.max_connections;
  options.max_connections_per_address = f.max_connections_per_address;
  options.threads = f.threads;
  if (Status s = server::CheckServerOptions(options); !s.ok()) return ReportError(s);
  Result<std::string> root = RepoPath(g);
  if (!root.ok()) return ReportError(root.status());
  // Opened once here (a wrong --repo fails now, not at the first request); it serves the
  // token checks. Each route opens the repository for its own request.
  Result<std::unique_ptr<repo::Repository>> repository = repo::Repository::Open(*root);
  if (!repository.ok()) return ReportError(repository.status());
  options.spool_path = [root = *root](std::string_view id, std::string_view extension) {
    return repo::repo_layout::UploadSpoolPath(root, id, extension);
  };
  boost::system::error_code ignored;  // a missing tmp folder fails at the first upload, named
  boost::filesystem::create_directories(repo::repo_layout::TmpDir(*root), ignored);
  server::UploadOptions uploads;
  Result<int64_t> expiry = audit::ParseDuration(f.upload_expiry);
  if (!expiry.ok()) return ReportError(expiry.status().WithContext("--upload-expiry"));
  uploads.expiry_micros = *expiry;
  Result<uint64_t> part_size = ParseByteSize(f.upload_part_size);
  if (!part_size.ok() || *part_size < 4096 || *part_size > (uint64_t{1} << 30)) {
    return ReportError(
        Status::InvalidArgument("--upload-part-size must be between 4K and 1G (e.g. 32M)"));
  }
  uploads.part_size = *part_size;
  uploads.max_upload_bytes = *max_upload;
  // Idle uploads are removed now (those a stopped server left) and then periodically.
  auto store = std::make_shared<server::UploadStore>(*root, uploads);
  store->StartSweeper();
  server::Router router = server::MakeApiRouter(*root, store);
  server::RequestHandler handler(router, MakeAuthenticator(*root, std::move(*repository)));
  Status served = server::RunServer(options, handler);
  if (!served.ok()) return ReportError(served);
  return kExitOk;
}

}  // namespace

void RegisterServe(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "serve the HTTPS JSON API (/v1/) to principals holding API tokens");
  cmd->add_option("--listen", flags->listen,
                  "ADDRESS:PORT to listen on (numeric; port 0 picks a free one)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key");
  cmd->add_flag("--plain-http", flags->plain_http,
                "serve without TLS: allowed only on a loopback address");
  cmd->add_option("--max-body", flags->max_body, "largest JSON request body (\"1M\", \"64K\")")
      ->capture_default_str();
  cmd->add_option("--max-upload", flags->max_upload,
                  "largest deposited bag (a POST /v1/deposits body, a resumable upload)")
      ->capture_default_str();
  cmd->add_option("--upload-expiry", flags->upload_expiry,
                  "remove resumable uploads idle this long (\"24h\", \"30m\", \"2d\")")
      ->capture_default_str();
  cmd->add_option("--upload-part-size", flags->upload_part_size,
                  "the part size of resumable uploads, 4K to 1G")
      ->capture_default_str();
  cmd->add_option("--max-header", flags->max_header, "largest request header (\"16K\")")
      ->capture_default_str();
  cmd->add_option("--header-timeout", flags->header_timeout,
                  "seconds a connection may take to send a request's header (or sit idle)")
      ->capture_default_str();
  cmd->add_option("--body-timeout", flags->body_timeout,
                  "seconds a client may take to send a body or read an answer")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->max_connections,
                  "open connections at most (one past it is answered 503, naming the limit)")
      ->capture_default_str();
  cmd->add_option("--max-connections-per-address", flags->max_connections_per_address,
                  "open connections from one client address at most (likewise)")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "threads serving requests")->capture_default_str();
  cmd->footer(
      "Sizes: K, M, G, T count in powers of 1024 (32M = 32 MiB; also 32Mi, 32MiB); KB, MB,\n"
      "GB, TB in powers of 1000 (200MB = 200,000,000 bytes).\n"
      "Each request carries 'Authorization: Bearer TOKEN'. One access-log line per request on\n"
      "stdout (time, request id, peer, principal, method, path, status, bytes, ms); server\n"
      "messages on stderr. SIGTERM: stop accepting, finish the requests in flight, exit 0.\n"
      "Exit codes: 0 stopped by SIGTERM or SIGINT; 2 could not run (bad flags, no repository,\n"
      "cannot listen, unreadable certificate or key).\n");
  cmd->callback([flags, &g] { g.exit_code = RunServe(*flags, g); });
}

}  // namespace cairn::cli
