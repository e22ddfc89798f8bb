// An injectable clock: everything in repo/ and audit/ that needs "now" takes a
// Clock, so "due after 90 days" is tested by moving a FakeClock, not by waiting.
#ifndef CAIRN_REPO_CLOCK_H_
#define CAIRN_REPO_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cairn::repo {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (UTC). Thread-safe.
  virtual int64_t NowMicros() = 0;
};

// The real wall clock.
class SystemClock : public Clock {
 public:
  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A process-wide instance, for callers that were given no clock.
  static SystemClock* Default() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock that only moves when told to (tests).
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_micros = 1'700'000'000 * kMicrosPerSecond)
      : now_(start_micros) {}
  int64_t NowMicros() override { return now_.load(); }
  void Set(int64_t micros) { now_.store(micros); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CLOCK_H_
