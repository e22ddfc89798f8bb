// The HTTPS front of `cairn serve` (issue 17): Boost.Beast over Asio, TLS by OpenSSL. It reads
// requests within the limits below, hands each to a RequestHandler, writes the answer with its
// request id and logs one access-log line per request. Nothing here decides access or touches
// the repository.
#ifndef CAIRN_OPS_SERVER_HTTP_SERVER_H_
#define CAIRN_OPS_SERVER_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bagit/status.h"
#include "ops/server/request_handler.h"

namespace cairn::server {

struct ServerOptions {
  std::string address = "127.0.0.1";  // a numeric IPv4 or IPv6 address
  uint16_t port = 8443;               // 0: any free port (named in the "listening" line)
  std::string tls_cert;               // PEM certificate chain file
  std::string tls_key;                // PEM private key file
  bool plain_http = false;            // no TLS: only on a loopback address
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  uint64_t max_upload_bytes = uint64_t{64} << 30;  // a streamed body (a deposited bag)
  // Where a streamed body of request `id` is spooled, by its extension (".tar", ".tar.gz",
  // ".zip"): repo_layout::UploadSpoolPath. Empty: streamed bodies are refused (501).
  std::function<std::string(std::string_view id, std::string_view extension)> spool_path;
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};  // idle or slow headers
  std::chrono::milliseconds body_timeout{std::chrono::seconds(120)};   // the body, once headed
  size_t max_connections = 256;  // further connections are answered 503 and closed
  // From one address: one client (a flood of idle sockets) cannot take every connection.
  size_t max_connections_per_address = 64;
  int threads = 4;
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};  // after SIGTERM
};

// OK when `options` can be served: a numeric address, plain HTTP only on a loopback address
// (InvalidArgument naming the rule otherwise), TLS with both a certificate and a key.
Status CheckServerOptions(const ServerOptions& options);

// Serves until SIGTERM or SIGINT: then stops accepting, lets requests in flight finish (each
// answered with "Connection: close"), closes idle connections, and returns OK; connections
// still busy after `shutdown_grace` are abandoned. Writes "cairn serve: listening on
// https://ADDRESS:PORT" to stderr once listening, and each access-log line to stdout.
// IOError or InvalidArgument when it cannot listen or load the certificate or key.
Status RunServer(const ServerOptions& options, RequestHandler& handler);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_HTTP_SERVER_H_
