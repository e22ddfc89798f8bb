// Boost.Beast/Asio and OpenSSL: their exceptions and error codes stop in this file.
#include "ops/server/http_server.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <csignal>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace cairn::server {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection when it waits for a request; one busy with a request closes after
  // answering it. Thread-safe: the work is posted to the session's strand.
  virtual void StopWhenIdle() = 0;
};

// A connection past --max-connections or --max-connections-per-address is not served, but told
// why (Refusal): at most this many at once, each for at most kRefusalDeadline (its TLS handshake,
// its request's header and a small body, the answer); past them a refused connection is closed
// at once, unanswered. So refusals cannot hold the sockets and threads the limits protect.
constexpr size_t kMaxRefusing = 8;
constexpr std::chrono::seconds kRefusalDeadline{3};

// What ServerState::Admit decides for a new connection.
enum class Admission {
  kServe,   // counted: a Session serves it
  kRefuse,  // over a limit: a Refusal answers 503 with the reason, then closes it
  kClose,   // closed at once (stopping, or too many refusals under way)
};

// What every connection shares.
struct ServerState {
  const ServerOptions& options;
  RequestHandler& handler;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> connections{0};
  // Threads making a streamed body (ApiResponse::producer); shared with them, as one may outlive
  // the server's state when its connection is abandoned at shutdown.
  std::shared_ptr<std::atomic<size_t>> producers = std::make_shared<std::atomic<size_t>>(0);
  std::mutex mu;  // guards sessions and the output streams
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions;
  uint64_t next_session = 0;
  std::map<std::string, size_t> per_address;  // open connections by peer address
  size_t refusing = 0;                        // Refusals under way

  // Counts a new connection from `peer` (kServe), or a Refusal of it (kRefuse); with the
  // reason when it would pass a limit.
  Admission Admit(const std::string& peer, std::string* why) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) {
      *why = "stopping";
      return Admission::kClose;
    }
    if (connections >= options.max_connections) {
      *why = "too many connections (--max-connections " + std::to_string(options.max_connections) +
             ")";
    } else if (per_address[peer] >= options.max_connections_per_address) {
      *why = "too many connections from " + peer + " (--max-connections-per-address " +
             std::to_string(options.max_connections_per_address) + ")";
    } else {
      connections++;
      per_address[peer]++;
      return Admission::kServe;
    }
    if (per_address[peer] == 0) per_address.erase(peer);
    if (refusing >= kMaxRefusing) return Admission::kClose;
    refusing++;
    return Admission::kRefuse;
  }
  void Leave(const std::string& peer) {  // REQUIRES: mu held
    connections--;
    if (auto it = per_address.find(peer); it != per_address.end() && --it->second == 0) {
      per_address.erase(it);
    }
  }

  void Log(const std::string& line, bool access) {
    std::lock_guard<std::mutex> lock(mu);
    (access ? std::cout : std::cerr) << line << std::endl;
  }
};

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(ServerState& state, std::string peer, Args&&... args)
      : state_(state), peer_(std::move(peer)), stream_(std::forward<Args>(args)...) {}

  ~Session() override {
    RemoveSpool();
    RemoveDownload();
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.Leave(peer_);
    state_.sessions.erase(id_);
  }

  // Runs the session on its own strand from the start, so that a SIGTERM's StopWhenIdle (posted
  // to that strand) is ordered after Begin: either the signal's sweep saw this session and its
  // StopWhenIdle finds it idle, or it did not and Begin sees `stopping`.
  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void StopWhenIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->Drop();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void Begin() {
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      id_ = state_.next_session++;
      state_.sessions[id_] = this->weak_from_this();
    }
    if (state_.stopping) return Drop();  // accepted as the signal came: its sweep missed us
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(state_.options.header_timeout);
      idle_ = true;  // no request yet: SIGTERM may close it
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                self->idle_ = false;
                                if (ec) return self->Drop();
                                self->ReadHeader();
                              });
    } else {
      ReadHeader();
    }
  }

  void ReadHeader() {
    if (state_.stopping) return Drop();
    idle_ = true;
    upload_.reset();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_.options.max_header_bytes));
    // The limit that applies is known once the route is (AfterHeader): until then none. (Beast
    // checks a Content-Length against its limit as it reads the header: a body over the larger
    // limit was refused there, before any route or limit was known, as "exceeds 0 bytes".)
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    body_limit_ = 0;
    upload_limit_ = false;
    beast::get_lowest_layer(stream_).expires_after(state_.options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              self->idle_ = false;
                              self->started_ = Clock::now();
                              if (ec) return self->ReadFailed(ec);
                              self->AfterHeader();
                            });
  }

  void AfterHeader() {
    const http::request<http::string_body>& req = parser_->get();
    const std::string method(req.method_string()), target(req.target());
    const bool streams = state_.handler.StreamsBody(method, target);
    const auto length = parser_->content_length();  // none: chunked
    if (!streams) {
      body_limit_ = state_.options.max_body_bytes;
      if (length && *length > body_limit_) return ReadFailed(http::error::body_limit);
      parser_->body_limit(body_limit_);  // a chunked body is counted as it arrives
      return ReadBody();
    }
    RawRequest head = RawOf(req);
    if (length) head.content_length = *length;
    const std::string id = state_.handler.NewRequestId();
    if (std::optional<ApiResponse> refusal = state_.handler.Admit(head, id, &target_)) {
      return Refuse(std::move(*refusal), id);
    }
    // Once admitted: a body into the route's file (an upload's part) is held to what the route
    // allows there (its part size; the route refused a part past --max-upload already); any
    // other to --max-upload, refused as an upload too large, not as a malformed request.
    upload_limit_ = target_.path.empty();
    body_limit_ = upload_limit_ ? state_.options.max_upload_bytes : target_.max_bytes;
    if (length && *length > body_limit_) {
      ReleaseTarget();
      return Refuse(TooLargeAnswer(id), id);
    }
    // A client that asked (Expect: 100-continue) sends the body only now.
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *continue_,
                        [self = this->shared_from_this(), id](beast::error_code ec, size_t) {
                          if (ec) return self->Drop();
                          self->SpoolBody(id);
                        });
      return;
    }
    SpoolBody(id);
  }

  // Answers `refusal` to a streamed request whose body is unread. A client that asked to be told
  // first (Expect: 100-continue) has not sent it: answered at once, the connection closed. One
  // that did not ask is sending it already (libcurl asks only for a body over 1 MiB, so a part
  // of a small upload comes at once): closing with its bytes unread resets the connection, and
  // the client sees "Connection reset by peer" instead of the answer (a 409 it would wait on).
  // So a body up to max_body_bytes (a JSON request's limit) is read and dropped first; the
  // connection is then kept as the client asked.
  void Refuse(ApiResponse refusal, const std::string& id) {
    const http::request<http::string_body>& req = parser_->get();
    const std::string method(req.method_string()), target(req.target());
    const bool told = beast::iequals(req[http::field::expect], "100-continue");
    const auto length = parser_->content_length();  // none: chunked
    if (told || parser_->is_done() || (length && *length > state_.options.max_body_bytes)) {
      return Answer(std::move(refusal), id, method, target, /*keep_alive=*/false);
    }
    parser_->body_limit(state_.options.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(state_.options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this(), refusal = std::move(refusal), id, method,
                      target](beast::error_code ec, size_t) mutable {
                       self->parser_->get().body().clear();
                       const bool keep_alive =
                           !ec && self->parser_->get().keep_alive() && !self->state_.stopping;
                       self->Answer(std::move(refusal), id, method, target, keep_alive);
                     });
  }

  // Streams the body of an admitted upload to its spool file, then serves it.
  void SpoolBody(const std::string& id) {
    const http::request<http::string_body>& req = parser_->get();
    const std::string method(req.method_string()), target(req.target());
    if (!state_.options.spool_path) {
      return Answer(ErrorResponse(501, "NotSupported", "uploads are not served here", id), id,
                    method, target, false);
    }
    const std::string type(req[http::field::content_type]);
    const char* extension = type == "application/zip"                                    ? ".zip"
                            : type == "application/gzip" || type == "application/x-gzip" ? ".tar.gz"
                                                                                         : ".tar";
    const bool placed = !target_.path.empty();  // into the route's file, at its offset
    spool_ = placed ? target_.path : state_.options.spool_path(id, extension);
    upload_.emplace(std::move(*parser_));
    upload_->body_limit(body_limit_);  // AfterHeader's
    beast::error_code ec;
    upload_->get().body().open(
        spool_.c_str(), placed ? beast::file_mode::write_existing : beast::file_mode::write_new,
        ec);
    if (!ec && placed) upload_->get().body().file().seek(target_.offset, ec);
    if (ec) {
      spool_.clear();
      ReleaseTarget();
      return Answer(ErrorResponse(500, "IOError", "cannot spool the upload: " + ec.message(), id),
                    id, method, target, false);
    }
    // Beast asks the stream for max(512, free capacity) bytes per read (at most 64 KiB): with
    // the small buffer the header left, every TLS record came out 512 bytes at a time, one
    // async read and one file write each (the ~33 MB/s of the first uploads). Room for 64 KiB
    // reads makes them 128 times fewer.
    buffer_.reserve(buffer_.size() + 128 * 1024);
    beast::get_lowest_layer(stream_).expires_after(state_.options.body_timeout);
    http::async_read(stream_, buffer_, *upload_,
                     [self = this->shared_from_this(), id](beast::error_code ec, size_t) {
                       beast::error_code ignored;
                       uint64_t end = self->upload_->get().body().file().pos(ignored);
                       self->body_bytes_ = end - self->target_.offset;
                       self->upload_->get().body().close();
                       if (ec) {
                         self->RemoveSpool();
                         if (ec == http::error::body_limit) {
                           self->parser_.reset();
                           return self->ReadFailed(ec);
                         }
                         return self->Drop();
                       }
                       self->ServeUpload(id);
                     });
  }

  void ServeUpload(const std::string& id) {
    const auto& req = upload_->get();
    RawRequest raw = RawOf(req);
    raw.body_file = spool_;
    raw.body_offset = target_.offset;
    raw.body_bytes = body_bytes_;
    ApiResponse answer = state_.handler.Handle(raw, id);
    RemoveSpool();
    Answer(std::move(answer), id, raw.method, raw.target, req.keep_alive() && !state_.stopping);
  }

  // Removes the spool file (a route's own file is kept) and tells the route its body is done.
  void RemoveSpool() {
    if (!spool_.empty() && target_.path.empty()) ::unlink(spool_.c_str());
    spool_.clear();
    ReleaseTarget();
  }

  void ReleaseTarget() {
    if (target_.done) std::exchange(target_.done, nullptr)();
    target_ = SpoolTarget{};
  }

  template <class Body>
  RawRequest RawOf(const http::request<Body>& req) const {
    RawRequest raw;
    raw.method = std::string(req.method_string());
    raw.target = std::string(req.target());
    raw.authorization = std::string(req[http::field::authorization]);
    raw.content_type = std::string(req[http::field::content_type]);
    raw.content_sha256 = std::string(req["X-Content-SHA256"]);
    raw.peer = peer_;
    return raw;
  }

  void ReadBody() {
    beast::get_lowest_layer(stream_).expires_after(state_.options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->ReadFailed(ec);
                       self->Serve();
                     });
  }

  // The refusal of a body over body_limit_: past --max-upload, the upload is too large (400, as
  // the upload routes say it: UploadTooLarge); else a 413.
  ApiResponse TooLargeAnswer(const std::string& id) {
    const auto length = parser_ ? parser_->content_length() : decltype(parser_->content_length()){};
    if (upload_limit_) {
      return ErrorResponse(UploadTooLarge(length ? *length : body_limit_ + 1, !length, body_limit_),
                           id);
    }
    return ErrorResponse(413, "BodyTooLarge",
                         "the request body exceeds " + std::to_string(body_limit_) + " bytes", id);
  }

  // A request that could not be read: answered with a 4xx when the client can still hear it,
  // then the connection is closed.
  void ReadFailed(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::ssl::error::stream_truncated || ec == net::error::connection_reset) {
      return Drop();
    }
    int status = 400;
    std::string code = "BadRequest", message = "malformed HTTP request: " + ec.message();
    if (ec == http::error::header_limit) {
      status = 431;
      code = "HeaderTooLarge";
      message = "the request header exceeds " + std::to_string(state_.options.max_header_bytes) +
                " bytes";
    }
    const std::string id = state_.handler.NewRequestId();
    ApiResponse answer = ec == http::error::body_limit ? TooLargeAnswer(id)
                                                       : ErrorResponse(status, code, message, id);
    std::string method = "-", target = "-";
    if (parser_ && parser_->is_header_done()) {
      method = std::string(parser_->get().method_string());
      target = std::string(parser_->get().target());
    }
    Answer(std::move(answer), id, method, target, /*keep_alive=*/false);
  }

  void Serve() {
    const http::request<http::string_body>& req = parser_->get();
    RawRequest raw = RawOf(req);
    raw.body = req.body();
    const std::string id = state_.handler.NewRequestId();
    ApiResponse answer = state_.handler.Handle(raw, id);
    bool keep_alive = req.keep_alive() && !state_.stopping;
    if (answer.delay.count() > 0) {
      delay_.emplace(stream_.get_executor());
      delay_->expires_after(answer.delay);
      delay_->async_wait([self = this->shared_from_this(), answer = std::move(answer), id,
                          method = raw.method, target = raw.target,
                          keep_alive](beast::error_code) mutable {
        self->Answer(std::move(answer), id, method, target, keep_alive);
      });
      return;
    }
    Answer(std::move(answer), id, raw.method, raw.target, keep_alive);
  }

  void Answer(ApiResponse answer, const std::string& id, const std::string& method,
              const std::string& target, bool keep_alive) {
    if (answer.producer) return StreamAnswer(std::move(answer), id, method, target, keep_alive);
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::server, "cairn");
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.set("X-Request-Id", id);
    for (const auto& [name, value] : answer.headers) response_.set(name, value);
    response_.body() = std::move(answer.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    size_t bytes = response_.body().size();
    if (!answer.body_file.empty()) {
      download_ = answer.body_file;
      file_response_.emplace(response_.base());
      if (!answer.filename.empty()) {
        file_response_->set(http::field::content_disposition,
                            "attachment; filename=\"" + answer.filename + "\"");
      }
      beast::error_code ec;
      file_response_->body().open(download_.c_str(), beast::file_mode::scan, ec);
      if (ec) {
        RemoveDownload();
        return Answer(ErrorResponse(500, "IOError", "cannot read the restored content", id), id,
                      method, target, false);
      }
      file_response_->prepare_payload();
      bytes = file_response_->body().size();
    }
    int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
    state_.Log(AccessLogLine(id, peer_, answer.principal.empty() ? "-" : answer.principal, method,
                             target, answer.status, bytes, ms),
               /*access=*/true);
    beast::get_lowest_layer(stream_).expires_after(state_.options.body_timeout);
    if (!download_.empty()) return WriteFile(keep_alive);
    http::async_write(stream_, response_,
                      [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->ReadHeader();
                      });
  }

  void WriteFile(bool keep_alive) {
    http::async_write(stream_, *file_response_,
                      [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->file_response_.reset();
                        self->RemoveDownload();
                        if (ec || !keep_alive) return self->Close();
                        self->ReadHeader();
                      });
  }

  // What a producer's thread hands back to the session: its outcome, set before the thread
  // closes its end of the pipe (so that the session, at the pipe's end, finds it set).
  struct Production {
    std::mutex mu;
    Status status = Status::Aborted("unfinished");
    std::map<std::string, std::string> trailers;
  };

  // Sends a body made while it is sent: the producer runs on a thread of its own and writes into
  // a pipe; the pipe's bytes go out as chunks, then the last chunk with the producer's trailer.
  // A producer that fails, or a client that goes away, ends the connection without the last
  // chunk (and closes the pipe: the producer's next write fails and it stops); a producer that
  // fails when the answer has an error_trailer ends it with the last chunk and that trailer.
  void StreamAnswer(ApiResponse answer, const std::string& id, const std::string& method,
                    const std::string& target, bool keep_alive) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      answer.producer = nullptr;
      return Answer(ErrorResponse(500, "IOError", "cannot start the answer's stream", id), id,
                    method, target, false);
    }
    ::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);  // fewer wakeups; the default (64 KiB) also works
    auto production = std::make_shared<Production>();
    (*state_.producers)++;
    std::thread([producer = std::move(answer.producer), fd = fds[1], production,
                 producers = state_.producers] {
      // The session may close its end early: a write then fails (EPIPE) instead of a signal.
      sigset_t pipe_signal;
      sigemptyset(&pipe_signal);
      sigaddset(&pipe_signal, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
      Status status = Status::Aborted("unfinished");
      std::map<std::string, std::string> trailers;
      try {
        status = producer(fd, &trailers);
      } catch (const std::exception& e) {
        status = Status::IOError(std::string("the answer's producer failed: ") + e.what());
      }
      {
        std::lock_guard<std::mutex> lock(production->mu);
        production->status = std::move(status);
        production->trailers = std::move(trailers);
      }
      ::close(fd);
      (*producers)--;
    }).detach();
    production_ = production;
    pipe_.emplace(stream_.get_executor(), fds[0]);
    stream_log_ = {id, method, target, answer.principal};
    stream_error_trailer_ = answer.error_trailer;
    streamed_ = 0;
    stream_keep_alive_ = keep_alive;
    stream_response_.emplace(static_cast<http::status>(answer.status), 11);
    stream_response_->set(http::field::server, "cairn");
    stream_response_->set(http::field::content_type, answer.content_type);
    stream_response_->set(http::field::cache_control, "no-store");
    stream_response_->set("X-Request-Id", id);
    for (const auto& [name, value] : answer.headers) stream_response_->set(name, value);
    if (!answer.filename.empty()) {
      stream_response_->set(http::field::content_disposition,
                            "attachment; filename=\"" + answer.filename + "\"");
    }
    stream_response_->chunked(true);
    stream_response_->keep_alive(keep_alive);
    stream_serializer_.emplace(*stream_response_);
    beast::get_lowest_layer(stream_).expires_after(state_.options.body_timeout);
    http::async_write_header(stream_, *stream_serializer_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->StreamFailed("the client went away");
                               self->PumpStream();
                             });
  }

  void PumpStream() {
    stream_buf_.resize(256 * 1024);
    pipe_->async_read_some(net::buffer(stream_buf_), [self = this->shared_from_this()](
                                                         beast::error_code ec, size_t n) {
      if (ec == net::error::eof) return self->EndStream();
      if (ec) return self->StreamFailed("the answer's pipe failed: " + ec.message());
      self->streamed_ += n;
      beast::get_lowest_layer(self->stream_).expires_after(self->state_.options.body_timeout);
      net::async_write(self->stream_, http::make_chunk(net::buffer(self->stream_buf_.data(), n)),
                       [self](beast::error_code ec, size_t) {
                         if (ec) return self->StreamFailed("the client went away");
                         self->PumpStream();
                       });
    });
  }

  // The pipe ended: the producer is done. The last chunk with its trailer when it succeeded, or
  // with the error trailer the answer asks for (and what the producer put in its trailer before
  // it failed) when it failed; else the connection is cut.
  void EndStream() {
    Status status = Status::Aborted("unfinished");
    std::map<std::string, std::string> trailers;
    {
      std::lock_guard<std::mutex> lock(production_->mu);
      status = production_->status;
      trailers = production_->trailers;
    }
    if (!status.ok() && stream_error_trailer_.empty()) {
      return StreamFailed("abandoned: " + status.ToString());
    }
    trailer_.clear();
    for (const auto& [name, value] : trailers) trailer_.set(name, value);
    std::string why;
    if (!status.ok()) {
      why = stream_error_trailer_ + " trailer: " + status.ToString();
      trailer_.set(stream_error_trailer_, ErrorTrailerValue(status, stream_log_.id));
    }
    beast::get_lowest_layer(stream_).expires_after(state_.options.body_timeout);
    net::async_write(stream_, http::make_chunk_last(trailer_),
                     [self = this->shared_from_this(), why](beast::error_code ec, size_t) {
                       self->LogStream(why, /*cut=*/false);
                       self->EndStreamState();
                       if (ec || !self->stream_keep_alive_) return self->Close();
                       self->ReadHeader();
                     });
  }

  // Ends the connection without the last chunk: the client sees a cut answer, never a whole one.
  void StreamFailed(const std::string& why) {
    LogStream(why);
    EndStreamState();
    Drop();
  }

  // The access-log line of a streamed answer, and `why` when it failed: it was `cut`, or its
  // trailer carried the failure.
  void LogStream(const std::string& why, bool cut = true) {
    int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
    state_.Log(AccessLogLine(stream_log_.id, peer_,
                             stream_log_.principal.empty() ? "-" : stream_log_.principal,
                             stream_log_.method, stream_log_.target, 200, streamed_, ms),
               /*access=*/true);
    if (!why.empty()) {
      state_.Log("cairn serve: request " + stream_log_.id + ": streamed answer " +
                     (cut ? "cut" : "ended") + " after " + std::to_string(streamed_) + " bytes" +
                     (cut ? ": " : " with the ") + why,
                 false);
    }
  }

  void EndStreamState() {
    pipe_.reset();  // closes the read end: a producer still writing stops
    stream_serializer_.reset();
    stream_response_.reset();
    production_.reset();
  }

  void RemoveDownload() {
    if (download_.empty()) return;
    ::unlink(download_.c_str());
    download_.clear();
  }

  // Ends the connection politely (TLS close_notify, or a TCP half-close).
  void Close() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Drop(); });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  void Drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  ServerState& state_;
  std::string peer_;
  Stream stream_;
  uint64_t id_ = 0;
  bool idle_ = false;
  Clock::time_point started_ = Clock::now();
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<http::file_body>> upload_;  // a streamed body
  std::string spool_;          // where upload_ writes; removed once answered
  SpoolTarget target_;         // the route's file for the body, when it named one
  uint64_t body_bytes_ = 0;    // of the streamed body that arrived
  uint64_t body_limit_ = 0;    // of the request being read
  bool upload_limit_ = false;  // body_limit_ is --max-upload
  std::optional<http::response<http::file_body>> file_response_;  // an answer sent from a file
  std::string download_;                                          // that file; removed once sent
  std::shared_ptr<http::response<http::empty_body>> continue_;    // "100 Continue" being sent
  http::response<http::string_body> response_;
  std::optional<net::steady_timer> delay_;
  // A streamed answer (ApiResponse::producer).
  struct StreamLog {
    std::string id, method, target, principal;
  } stream_log_;
  std::shared_ptr<Production> production_;
  std::optional<net::posix::stream_descriptor> pipe_;
  std::optional<http::response<http::empty_body>> stream_response_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  std::vector<char> stream_buf_;
  http::fields trailer_;
  std::string stream_error_trailer_;  // ApiResponse::error_trailer of the answer being streamed
  uint64_t streamed_ = 0;
  bool stream_keep_alive_ = false;
};

// A connection refused by a limit (Admission::kRefuse), answered instead of closed unanswered
// (the client saw a TLS error; only the server's log said why): the TLS handshake, the
// request's header (and a body of up to max_body_bytes, unless the client waits for "100
// Continue"; closing with its bytes unread would reset the connection before the client reads
// the answer), then 503 with the reason and Retry-After, and the connection is closed. All of
// it within kRefusalDeadline, set once: a client that stalls is dropped then.
template <class Stream>
class Refusal : public std::enable_shared_from_this<Refusal<Stream>> {
 public:
  template <class... Args>
  Refusal(ServerState& state, std::string peer, std::string why, Args&&... args)
      : state_(state),
        peer_(std::move(peer)),
        why_(std::move(why)),
        stream_(std::forward<Args>(args)...) {}

  ~Refusal() {
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.refusing--;
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      beast::get_lowest_layer(self->stream_).expires_after(kRefusalDeadline);
      if constexpr (kTls) {
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->Drop();
          self->ReadHeader();
        });
      } else {
        self->ReadHeader();
      }
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void ReadHeader() {
    parser_.header_limit(static_cast<uint32_t>(state_.options.max_header_bytes));
    parser_.body_limit(state_.options.max_body_bytes);
    http::async_read_header(
        stream_, buffer_, parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->Drop();
          const auto& req = self->parser_.get();
          const auto length = self->parser_.content_length();
          if (self->parser_.is_done() || beast::iequals(req[http::field::expect], "100-continue") ||
              (length && *length > self->state_.options.max_body_bytes)) {
            return self->Answer();
          }
          http::async_read(self->stream_, self->buffer_, self->parser_,
                           [self](beast::error_code, size_t) {
                             self->parser_.get().body().clear();
                             self->Answer();
                           });
        });
  }

  void Answer() {
    const std::string id = state_.handler.NewRequestId();
    ApiResponse answer =
        ErrorResponse(Status::Unavailable("cairn serve refused the connection: " + why_ +
                                          "; try again once some of them have closed"),
                      id);
    response_.version(11);
    response_.result(http::status::service_unavailable);
    response_.set(http::field::server, "cairn");
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.set(http::field::retry_after, "1");
    response_.set("X-Request-Id", id);
    response_.body() = std::move(answer.body);
    response_.keep_alive(false);
    response_.prepare_payload();
    const auto& req = parser_.get();
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
    state_.Log(AccessLogLine(id, peer_, "-", std::string(req.method_string()),
                             std::string(req.target()), 503, response_.body().size(), ms),
               /*access=*/true);
    http::async_write(stream_, response_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Drop();
                        if constexpr (kTls) {
                          self->stream_.async_shutdown([self](beast::error_code) { self->Drop(); });
                        } else {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        }
                      });
  }

  void Drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  ServerState& state_;
  const std::string peer_, why_;
  Stream stream_;
  const Clock::time_point started_ = Clock::now();
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, ServerState& state, ssl::context* tls)
      : ioc_(ioc), state_(state), tls_(tls), acceptor_(net::make_strand(ioc)) {}

  Status Listen(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on " + endpoint.address().to_string() + ":" +
                             std::to_string(endpoint.port()) + ": " + ec.message());
    }
    return Status::OK();
  }
  uint16_t port() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             if (!ec) self->Admit(std::move(socket));
                             if (!self->state_.stopping && self->acceptor_.is_open()) {
                               self->Accept();
                             }
                           });
  }
  // Closes the acceptor (on its strand: the accept in flight runs there).
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  void Admit(tcp::socket socket) {
    beast::error_code ec;
    std::string peer = socket.remote_endpoint(ec).address().to_string();
    std::string why;
    const Admission admission = state_.Admit(peer, &why);
    if (admission != Admission::kServe) {
      const bool answered = admission == Admission::kRefuse;
      state_.Log("cairn serve: refused a connection from " + peer + ": " + why +
                     (answered ? " (answered 503)" : ""),
                 false);
      if (!answered) {
        socket.close(ec);
      } else if (tls_) {
        std::make_shared<Refusal<beast::ssl_stream<beast::tcp_stream>>>(state_, peer, why,
                                                                        std::move(socket), *tls_)
            ->Start();
      } else {
        std::make_shared<Refusal<beast::tcp_stream>>(state_, peer, why, std::move(socket))->Start();
      }
      return;
    }
    if (tls_) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(state_, peer,
                                                                      std::move(socket), *tls_)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(state_, peer, std::move(socket))->Start();
    }
  }

  net::io_context& ioc_;
  ServerState& state_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
};

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const ServerOptions& options) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (ec) return Status::IOError("TLS setup: " + ec.message());
  ctx->use_certificate_chain_file(options.tls_cert, ec);
  if (ec) return Status::InvalidArgument("--tls-cert " + options.tls_cert + ": " + ec.message());
  ctx->use_private_key_file(options.tls_key, ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("--tls-key " + options.tls_key + ": " + ec.message());
  return ctx;
}

}  // namespace

Status CheckServerOptions(const ServerOptions& options) {
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(options.address, ec);
  if (ec) {
    return Status::InvalidArgument("listen address '" + options.address +
                                   "' is not a numeric IPv4 or IPv6 address");
  }
  if (options.plain_http && !address.is_loopback()) {
    return Status::InvalidArgument(
        "--plain-http serves tokens in clear text: it is allowed only on a loopback address "
        "(127.0.0.1, ::1), not on " +
        options.address);
  }
  if (!options.plain_http && (options.tls_cert.empty() || options.tls_key.empty())) {
    return Status::InvalidArgument(
        "TLS needs --tls-cert FILE and --tls-key FILE (or --plain-http on a loopback address)");
  }
  if (options.threads < 1 || options.max_connections < 1 ||
      options.max_connections_per_address < 1) {
    return Status::InvalidArgument(
        "--threads, --max-connections and --max-connections-per-address must be at least 1");
  }
  return Status::OK();
}

Status RunServer(const ServerOptions& options, RequestHandler& handler) {
  CAIRN_RETURN_IF_ERROR(CheckServerOptions(options));
  try {
    std::unique_ptr<ssl::context> tls;
    if (!options.plain_http) {
      CAIRN_ASSIGN_OR_RETURN(tls, MakeTlsContext(options));
    }
    // The state outlives the io_context: handlers destroyed with it still hold sessions.
    ServerState state{options, handler};
    net::io_context ioc(options.threads);
    auto listener = std::make_shared<Listener>(ioc, state, tls.get());
    tcp::endpoint endpoint(net::ip::make_address(options.address), options.port);
    CAIRN_RETURN_IF_ERROR(listener->Listen(endpoint));
    listener->Accept();

    net::steady_timer grace(ioc);
    net::signal_set signals(ioc, SIGTERM, SIGINT);
    signals.async_wait([&](beast::error_code ec, int signal) {
      if (ec) return;
      state.stopping = true;
      state.Log("cairn serve: signal " + std::to_string(signal) +
                    ": stopping (finishing the requests in flight)",
                false);
      listener->Stop();
      std::vector<std::shared_ptr<SessionBase>> live;
      {
        std::lock_guard<std::mutex> lock(state.mu);
        for (auto& [id, weak] : state.sessions) {
          if (auto s = weak.lock()) live.push_back(std::move(s));
        }
      }
      for (auto& s : live) s->StopWhenIdle();
      grace.expires_after(options.shutdown_grace);
      grace.async_wait([&](beast::error_code ec) {
        if (ec) return;
        state.Log("cairn serve: abandoning the connections still busy", false);
        ioc.stop();
      });
    });
    const std::string scheme = options.plain_http ? "http" : "https";
    const std::string host =
        endpoint.address().is_v6() ? "[" + options.address + "]" : options.address;
    state.Log("cairn serve: listening on " + scheme + "://" + host + ":" +
                  std::to_string(listener->port()),
              false);
    std::vector<std::thread> workers;
    for (int i = 1; i < options.threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
    // When only the grace timer is left (every connection closed), stop at once.
    net::steady_timer watch(ioc);
    std::function<void()> poll = [&] {
      watch.expires_after(std::chrono::milliseconds(100));
      watch.async_wait([&](beast::error_code ec) {
        if (ec) return;
        if (state.stopping && state.connections == 0) {
          grace.cancel();
          return;
        }
        poll();
      });
    };
    poll();
    ioc.run();
    for (std::thread& t : workers) t.join();
    // Producers of streamed answers whose connection ended stop at their next write; wait for
    // them so that nothing they record is cut by the exit.
    for (auto until = Clock::now() + options.shutdown_grace;
         *state.producers > 0 && Clock::now() < until;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    state.Log("cairn serve: stopped", false);
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::IOError(std::string("cairn serve: ") + e.what());
  }
}

}  // namespace cairn::server
