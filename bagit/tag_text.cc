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
    out->append(bytes);
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
