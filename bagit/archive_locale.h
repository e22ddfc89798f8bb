// Internal to bagit/archive*.cc: libarchive converts member names through the
// calling thread's locale, and in the default "C" locale it refuses every
// non-ASCII UTF-8 name. While one of these objects lives, the calling thread
// uses C.UTF-8 for character types, so UTF-8 names pass through unchanged.
#ifndef CAIRN_BAGIT_ARCHIVE_LOCALE_H_
#define CAIRN_BAGIT_ARCHIVE_LOCALE_H_

#include <locale.h>

#include <clocale>

namespace cairn::bagit::internal {

class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() {
    static const locale_t utf8 = [] {
      locale_t l = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
      return l != static_cast<locale_t>(0)
                 ? l
                 : ::newlocale(LC_CTYPE_MASK, "en_US.UTF-8", static_cast<locale_t>(0));
    }();
    if (utf8 != static_cast<locale_t>(0)) previous_ = ::uselocale(utf8);
  }
  ~ScopedUtf8Locale() {
    if (previous_ != static_cast<locale_t>(0)) ::uselocale(previous_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t previous_ = static_cast<locale_t>(0);
};

}  // namespace cairn::bagit::internal

#endif  // CAIRN_BAGIT_ARCHIVE_LOCALE_H_
