// UTC times as text, the one place that formats and parses them: ISO 8601
// for events, reports, markers and S3 headers, dates for bag-info.txt, and
// the labels of the audit history's chart.
#ifndef CAIRN_BAGIT_TIME_TEXT_H_
#define CAIRN_BAGIT_TIME_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn {

enum class TimeText {
  kSeconds,  // "2026-11-21T12:44:04Z"
  kMicros,   // "2026-11-21T12:44:04.123456Z" (PREMIS eventDateTime)
  kDate,     // "2026-11-21" (bag-info.txt Bagging-Date)
  kIsoWeek,  // "2026-W47"
  kMonth,    // "2026-11"
};

// `unix_micros` (microseconds since 1970-01-01T00:00:00Z; negative is before
// it) as UTC text in `form`.
std::string FormatUtc(int64_t unix_micros, TimeText form = TimeText::kSeconds);

// Now, as UTC text in `form` (the system clock).
std::string NowUtc(TimeText form = TimeText::kSeconds);

// Microseconds since the epoch of "YYYY-MM-DD" (midnight UTC) or
// "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z". InvalidArgument naming the text and the
// accepted forms otherwise (a month 13, a day 32, letters, no Z).
Result<int64_t> ParseUtc(std::string_view text);

}  // namespace cairn

#endif  // CAIRN_BAGIT_TIME_TEXT_H_
