// TagTextDecoder and LineSplitter (declared in bagit/tag_files.h): the streaming
// text layer under every tag-file parser.
#include <errno.h>
#include <iconv.h>

#include <cctype>
#include <string>

#include "bagit/tag_files.h"

namespace cairn::bagit {
namespace {

bool IsUtf8Name(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "utf-8" || lower == "utf8";
}

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Checks `s` as UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
// U+10FFFF). Returns false at the first invalid byte; else sets *whole to the
// length of the prefix made of complete characters (the rest, if any, is the
// valid start of a character cut by the end of the chunk).
bool CheckUtf8(std::string_view s, size_t* whole) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    for (size_t k = 1; k <= need; ++k) {
      if (i + k >= s.size()) {  // cut by the end of the chunk: valid so far
        *whole = i;
        return true;
      }
      unsigned char b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += need + 1;
  }
  *whole = i;
  return true;
}

}  // namespace

Result<std::unique_ptr<TagTextDecoder>> TagTextDecoder::Create(std::string_view encoding) {
  std::unique_ptr<TagTextDecoder> decoder(new TagTextDecoder());
  if (IsUtf8Name(encoding)) return decoder;
  iconv_t cd = iconv_open("UTF-8", std::string(encoding).c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return Status::InvalidArgument("unknown tag file character encoding '" + std::string(encoding) +
                                   "'");
  }
  decoder->cd_ = cd;
  return decoder;
}

TagTextDecoder::~TagTextDecoder() {
  if (cd_ != nullptr) iconv_close(static_cast<iconv_t>(cd_));
}

Status TagTextDecoder::Feed(std::string_view bytes, std::string* out) {
  size_t out_start = out->size();
  if (cd_ == nullptr) {
    // UTF-8 passes through, checked: a name or value that is not UTF-8 would
    // reach reports, the catalog and version.pb (protobuf strings are UTF-8).
    pending_.append(bytes);
    size_t whole = 0;
    if (!CheckUtf8(pending_, &whole)) {
      return Status::InvalidArgument("bytes that are not valid UTF-8, the declared encoding");
    }
    out->append(pending_, 0, whole);
    pending_.erase(0, whole);
  } else {
    pending_.append(bytes);
    char* in = pending_.data();
    size_t in_left = pending_.size();
    char buffer[16 * 1024];
    while (in_left > 0) {
      char* out_ptr = buffer;
      size_t out_left = sizeof(buffer);
      size_t rc = iconv(static_cast<iconv_t>(cd_), &in, &in_left, &out_ptr, &out_left);
      out->append(buffer, out_ptr - buffer);
      if (rc != static_cast<size_t>(-1)) continue;
      if (errno == E2BIG) continue;
      if (errno == EINVAL) break;  // incomplete character: wait for more bytes
      return Status::InvalidArgument("bytes that are not valid in the declared encoding");
    }
    pending_.erase(0, pending_.size() - in_left);
  }
  if (!started_ && out->size() > out_start) {
    // A leading BOM (U+FEFF) is never part of the text.
    if (std::string_view(*out).substr(out_start, 3) == kUtf8Bom) {
      out->erase(out_start, 3);
      bom_seen_ = true;
    }
    started_ = true;
  }
  return Status::OK();
}

Status TagTextDecoder::Finish() {
  if (!pending_.empty()) {
    return Status::InvalidArgument("the file ends in the middle of a character");
  }
  return Status::OK();
}

Status LineSplitter::Feed(std::string_view text) {
  size_t i = 0;
  if (pending_cr_ && !text.empty()) {
    pending_cr_ = false;
    if (text[0] == '\n') i = 1;  // the LF of a CRLF split across two chunks
  }
  while (i < text.size()) {
    size_t end = text.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      partial_.append(text.substr(i));
      if (partial_.size() > max_line_) {
        return Status::InvalidArgument("line " + std::to_string(line_no_ + 1) + " is longer than " +
                                       std::to_string(max_line_) + " bytes");
      }
      return Status::OK();
    }
    std::string_view piece = text.substr(i, end - i);
    if (partial_.size() + piece.size() > max_line_) {
      return Status::InvalidArgument("line " + std::to_string(line_no_ + 1) + " is longer than " +
                                     std::to_string(max_line_) + " bytes");
    }
    ++line_no_;
    if (partial_.empty()) {
      on_line_(line_no_, piece);
    } else {
      partial_.append(piece);
      on_line_(line_no_, partial_);
      partial_.clear();
    }
    if (text[end] == '\r') {
      if (end + 1 < text.size()) {
        i = text[end + 1] == '\n' ? end + 2 : end + 1;
      } else {
        pending_cr_ = true;
        i = end + 1;
      }
    } else {
      i = end + 1;
    }
  }
  return Status::OK();
}

Status LineSplitter::Finish() {
  if (!partial_.empty()) {
    ++line_no_;
    on_line_(line_no_, partial_);
    partial_.clear();
  }
  return Status::OK();
}

}  // namespace cairn::bagit
