// Slows repeated failed authentications from one address (issue 17): each failure from an
// address makes its next answers wait longer (50 ms, doubling, at most 2 s); a success or
// 10 minutes without failures forgets the address. The table holds at most `capacity`
// addresses: when full, the entry failed longest ago is dropped, so a flood of addresses costs
// bounded memory. Thread-safe.
#ifndef CAIRN_OPS_SERVER_AUTH_THROTTLE_H_
#define CAIRN_OPS_SERVER_AUTH_THROTTLE_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace cairn::server {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AuthThrottle(size_t capacity = 4096) : capacity_(capacity) {}

  // How long to hold the answer to a request from `address` whose authentication failed, and
  // counts the failure.
  std::chrono::milliseconds Failed(const std::string& address, Clock::time_point now);
  // Forgets `address` (it authenticated).
  void Succeeded(const std::string& address);
  size_t size() const;

  static constexpr std::chrono::milliseconds kFirstDelay{50};
  static constexpr std::chrono::milliseconds kMaxDelay{2000};
  static constexpr std::chrono::minutes kForgetAfter{10};

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point last;
  };
  mutable std::mutex mu_;
  size_t capacity_;
  std::map<std::string, Entry> entries_;
};

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_AUTH_THROTTLE_H_
