// Status and Result<T>: the error values used by every Cairn layer.
//
// bagit/ is the bottom layer every other folder depends on, so the shared error
// type lives here, in namespace cairn (not cairn::bagit). Errors are values:
// no Cairn function throws; exceptions from third-party libraries are caught in
// the file that calls the library and turned into a Status there.
#ifndef CAIRN_BAGIT_STATUS_H_
#define CAIRN_BAGIT_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

enum class Code {
  kOk = 0,
  kNotFound,          // the key, file or object does not exist ("missing")
  kCorruption,        // bytes were read and they are wrong
  kInvalidArgument,   // bad input: a broken bag, a bad path, a bad policy
  kIOError,           // a local I/O call failed (read, write, fsync, rename)
  kUnavailable,       // could not reach or read the storage: retry later
  kNotSupported,      // a feature this build or backend does not have
  kAlreadyExists,     // write-once key already present
  kPermissionDenied,  // credentials or file permissions refused the call
  kNoSpace,           // the device or bucket is full
  kAborted,           // stopped on request (signal, cancellation)
  kUnauthenticated,   // no credentials, or ones that are unknown, expired or revoked
  kWithdrawn,         // refused by a rule: the version was withdrawn (HTTP 410; exit 1)
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  // Unavailable is retryable by default.
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status NotSupported(std::string msg) {
    return Status(Code::kNotSupported, std::move(msg));
  }
  static Status AlreadyExists(std::string msg) {
    return Status(Code::kAlreadyExists, std::move(msg));
  }
  static Status PermissionDenied(std::string msg) {
    return Status(Code::kPermissionDenied, std::move(msg));
  }
  static Status NoSpace(std::string msg) { return Status(Code::kNoSpace, std::move(msg)); }
  static Status Aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }
  static Status Unauthenticated(std::string msg) {
    return Status(Code::kUnauthenticated, std::move(msg));
  }
  static Status Withdrawn(std::string msg) { return Status(Code::kWithdrawn, std::move(msg)); }
  // Maps an errno from a failed system call on `what` (a path or key) to a Status:
  // ENOENT -> NotFound, EACCES/EPERM/EROFS -> PermissionDenied, ENOSPC/EDQUOT -> NoSpace,
  // EIO/other -> IOError. The message is "<op> <what>: <strerror>".
  static Status FromErrno(int err, std::string_view op, std::string_view what);

  Status(Code code, std::string msg)
      : code_(code), msg_(std::move(msg)), retryable_(code == Code::kUnavailable) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // True when trying the same call again later may succeed (a site that is down).
  bool retryable() const { return retryable_; }
  Status& SetRetryable(bool r) {
    retryable_ = r;
    return *this;
  }
  // Prefixes the message with context: "deposit acme/obj1: " + message.
  Status WithContext(std::string_view context) const;

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsWithdrawn() const { return code_ == Code::kWithdrawn; }

  // "Corruption: <message>" or "OK".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string msg_;
  bool retryable_ = false;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cairn

#define CAIRN_CONCAT_INNER_(a, b) a##b
#define CAIRN_CONCAT_(a, b) CAIRN_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define CAIRN_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::cairn::Status cairn_status_ = (expr);        \
    if (!cairn_status_.ok()) return cairn_status_; \
  } while (0)

// `lhs` = value of the Result `rexpr`, or return its Status.
#define CAIRN_ASSIGN_OR_RETURN(lhs, rexpr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_CONCAT_(cairn_result_, __LINE__), lhs, rexpr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // CAIRN_BAGIT_STATUS_H_
