// libFuzzer target: the tag-file text layer and line parsers (bagit.txt,
// bag-info.txt, manifests, fetch.txt). The first byte picks the parser and the
// declared encoding; the rest is the file. Any crash, sanitizer report or
// unbounded growth is a finding. Built only with -DCAIRN_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "bagit/tag_files.h"

namespace {

using cairn::bagit::Algorithm;
using cairn::bagit::Report;

constexpr const char* kEncodings[] = {"UTF-8", "ISO-8859-1", "UTF-16", "UTF-16LE"};

// Decodes `bytes` in `encoding` and feeds every line to `on_line`, in chunks
// of odd sizes so chunk boundaries fall everywhere.
void Lines(std::string_view bytes, const char* encoding,
           const cairn::bagit::LineSplitter::LineFn& on_line) {
  auto decoder = cairn::bagit::TagTextDecoder::Create(encoding);
  if (!decoder.ok()) return;
  cairn::bagit::LineSplitter splitter(on_line, 4096);
  size_t chunk = 1 + bytes.size() % 61;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    std::string text;
    if (!(*decoder)->Feed(bytes.substr(i, chunk), &text).ok()) return;
    if (!splitter.Feed(text).ok()) return;
  }
  (void)(*decoder)->Finish();
  (void)splitter.Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const char* encoding = kEncodings[(selector >> 4) % 4];
  Report report;
  switch (selector % 5) {
    case 0:
      (void)cairn::bagit::ParseBagitTxt(input, &report);
      break;
    case 1: {
      cairn::bagit::BagitVersion version;
      version.minor = (selector >> 3) & 1 ? 0 : 97;
      version.major = version.minor == 97 ? 0 : 1;
      (void)cairn::bagit::ParseBagInfo(input, version, "bag-info.txt", &report);
      break;
    }
    case 2:
      Lines(input, encoding, [&](uint64_t n, std::string_view line) {
        (void)cairn::bagit::ParseManifestLine(line, Algorithm::kSha256, "manifest-sha256.txt", n,
                                              &report);
      });
      break;
    case 3:
      Lines(input, encoding, [&](uint64_t n, std::string_view line) {
        (void)cairn::bagit::ParseFetchLine(line, "fetch.txt", n, &report);
      });
      break;
    case 4:
      Lines(input, encoding, [&](uint64_t n, std::string_view line) {
        (void)cairn::bagit::ParseManifestLine(line, Algorithm::kMd5, "manifest-md5.txt", n,
                                              &report);
      });
      break;
  }
  // Paths are raw bytes: dumped as every caller does (report.h), invalid UTF-8 replaced.
  (void)report.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
