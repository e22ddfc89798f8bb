#include "ops/server/auth_throttle.h"

#include <algorithm>

namespace cairn::server {

std::chrono::milliseconds AuthThrottle::Failed(const std::string& address, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  if (it != entries_.end() && now - it->second.last > kForgetAfter) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) {
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
        return a.second.last < b.second.last;
      });
      entries_.erase(oldest);
    }
    it = entries_.emplace(address, Entry{}).first;
  }
  Entry& e = it->second;
  e.last = now;
  e.failures = std::min(e.failures + 1, 30);
  // The first failure costs nothing (a mistyped token), then 50 ms, 100 ms, ... up to 2 s.
  if (e.failures == 1) return std::chrono::milliseconds(0);
  auto delay = kFirstDelay * (int64_t{1} << std::min(e.failures - 2, 10));
  return std::min<std::chrono::milliseconds>(delay, kMaxDelay);
}

void AuthThrottle::Succeeded(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(address);
}

size_t AuthThrottle::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace cairn::server
