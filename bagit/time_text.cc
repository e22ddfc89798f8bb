// FormatUtc, NowUtc, ParseUtc: see time_text.h.
#include "bagit/time_text.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace cairn {
namespace {

bool Digits(std::string_view s, size_t at, size_t n) {
  if (s.size() < at + n) return false;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int Number(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

std::string FormatUtc(int64_t unix_micros, TimeText form) {
  int64_t secs = unix_micros / 1'000'000;
  int64_t micros = unix_micros % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  switch (form) {
    case TimeText::kSeconds:
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      break;
    case TimeText::kMicros:
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    micros);
      break;
    case TimeText::kDate:
      std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
      break;
    case TimeText::kIsoWeek:
      std::strftime(buf, sizeof buf, "%G-W%V", &tm);
      break;
    case TimeText::kMonth:
      std::strftime(buf, sizeof buf, "%Y-%m", &tm);
      break;
  }
  return buf;
}

std::string NowUtc(TimeText form) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return FormatUtc(std::chrono::duration_cast<std::chrono::microseconds>(now).count(), form);
}

Result<int64_t> ParseUtc(std::string_view text) {
  const Status bad = Status::InvalidArgument("'" + std::string(text) +
                                             "': use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
  if (text.size() < 10 || !Digits(text, 0, 4) || text[4] != '-' || !Digits(text, 5, 2) ||
      text[7] != '-' || !Digits(text, 8, 2)) {
    return bad;
  }
  std::tm tm{};
  tm.tm_year = Number(text, 0, 4) - 1900;
  tm.tm_mon = Number(text, 5, 2) - 1;
  tm.tm_mday = Number(text, 8, 2);
  int64_t micros = 0;
  if (text.size() > 10) {
    if (text.size() < 20 || text[10] != 'T' || !Digits(text, 11, 2) || text[13] != ':' ||
        !Digits(text, 14, 2) || text[16] != ':' || !Digits(text, 17, 2) || text.back() != 'Z') {
      return bad;
    }
    tm.tm_hour = Number(text, 11, 2);
    tm.tm_min = Number(text, 14, 2);
    tm.tm_sec = Number(text, 17, 2);
    std::string_view frac = text.substr(19, text.size() - 20);
    if (!frac.empty()) {
      if (frac[0] != '.' || frac.size() < 2 || frac.size() > 7 ||
          !Digits(frac, 1, frac.size() - 1)) {
        return bad;
      }
      std::string digits(frac.substr(1));
      digits.resize(6, '0');
      micros = Number(digits, 0, 6);
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return bad;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000 + micros;
}

}  // namespace cairn
