#include "bagit/status.h"

#include <cerrno>
#include <cstring>

namespace cairn {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound";
    case Code::kCorruption:
      return "Corruption";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kIOError:
      return "IOError";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kNotSupported:
      return "NotSupported";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kPermissionDenied:
      return "PermissionDenied";
    case Code::kNoSpace:
      return "NoSpace";
    case Code::kAborted:
      return "Aborted";
    case Code::kUnauthenticated:
      return "Unauthenticated";
    case Code::kWithdrawn:
      return "Withdrawn";
  }
  return "Unknown";
}

Status Status::FromErrno(int err, std::string_view op, std::string_view what) {
  std::string msg = std::string(op) + " " + std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDenied(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return NoSpace(std::move(msg));
    case EEXIST:
      return AlreadyExists(std::move(msg));
    case EINTR:
    case EAGAIN:
    case ETIMEDOUT:
    case ESTALE:  // an NFS mount that went away
      return Unavailable(std::move(msg));
    default:
      return IOError(std::move(msg));
  }
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status s(code_, std::string(context) + ": " + msg_);
  s.retryable_ = retryable_;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + msg_;
}

}  // namespace cairn
