#include "repo/storage/s3_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>

#include "bagit/units.h"
#include "repo/storage/backend.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kScheme = "s3://";
constexpr uint64_t kMinPartSize = 5ull << 20;
constexpr uint64_t kMaxPartSize = 5ull << 30;

Status BadUrl(std::string_view rule) {
  return Status::InvalidArgument("s3 URL: " + std::string(rule));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return BadUrl("bad %-escape in a parameter");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool ValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return false;
    }
  }
  return name.front() != '-' && name.front() != '.' && name.back() != '-' && name.back() != '.';
}

// Sizes such as "16MiB", "5M", "8388608": bare units are powers of 1024 here,
// as S3 tools write part sizes.
Result<uint64_t> ParseSize(std::string_view text) {
  Result<uint64_t> size = ParseByteSize(text);
  if (!size.ok()) return BadUrl("part-size must be a number of bytes, e.g. 16MiB");
  return size;
}

bool LooksLikeCredential(std::string_view name) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (std::string_view word : {"key", "secret", "token", "password", "credential", "user"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::string S3UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<uint64_t> ParseRetention(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return BadUrl("retain must look like 10y, 30d, 12h, 90m or 3600s");
  uint64_t n = std::stoull(std::string(text.substr(0, digits)));
  std::string_view unit = text.substr(digits);
  if (unit == "y") return n * 365 * 86400;
  if (unit == "d") return n * 86400;
  if (unit == "h") return n * 3600;
  if (unit == "m") return n * 60;
  if (unit == "s" || unit.empty()) return n;
  return BadUrl("retain must look like 10y, 30d, 12h, 90m or 3600s");
}

Result<S3Config> ParseS3Url(std::string_view url) {
  if (url.substr(0, kScheme.size()) != kScheme) return BadUrl("must start with s3://");
  std::string_view rest = url.substr(kScheme.size());
  size_t question = rest.find('?');
  std::string_view path = rest.substr(0, question);
  std::string_view query = question == std::string_view::npos ? "" : rest.substr(question + 1);
  if (path.find('@') != std::string_view::npos) {
    return BadUrl(
        "credentials must not be part of the URL; set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY or a credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)");
  }
  S3Config config;
  size_t slash = path.find('/');
  config.bucket = std::string(path.substr(0, slash));
  if (!ValidBucketName(config.bucket)) {
    return BadUrl("bucket name must be 3-63 characters of a-z, 0-9, '-' and '.'");
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = path.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) {
      Status valid = ValidateKey(prefix);
      if (!valid.ok()) return BadUrl("bad prefix: " + valid.message());
      config.prefix = std::string(prefix);
    }
  }
  bool have_endpoint = false, have_retain = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    if (eq == std::string_view::npos)
      return BadUrl("parameter '" + std::string(name) + "' needs a value");
    CAIRN_ASSIGN_OR_RETURN(std::string value, PercentDecode(pair.substr(eq + 1)));
    if (name == "endpoint") {
      if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
        return BadUrl("endpoint must start with http:// or https://");
      }
      std::string_view authority = std::string_view(value).substr(value.find("//") + 2);
      if (authority.substr(0, authority.find('/')).find('@') != std::string_view::npos) {
        return BadUrl(
            "credentials must not be part of the endpoint; use AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY or a credentials file");
      }
      while (!value.empty() && value.back() == '/') value.pop_back();
      config.endpoint = value;
      have_endpoint = true;
    } else if (name == "region") {
      if (value.empty()) return BadUrl("region must not be empty");
      for (char c : value) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
          return BadUrl("region may hold only letters, digits, '-' and '_'");
        }
      }
      config.region = value;
    } else if (name == "ca-file") {
      if (value.empty()) return BadUrl("ca-file must name a file");
      config.ca_file = value;
    } else if (name == "profile") {
      if (value.empty() || value.find_first_of("[]\r\n") != std::string::npos) {
        return BadUrl("profile must be a credentials-file section name");
      }
      config.profile = value;
    } else if (name == "object-lock") {
      if (value != "GOVERNANCE" && value != "COMPLIANCE") {
        return BadUrl("object-lock must be GOVERNANCE or COMPLIANCE");
      }
      config.object_lock_mode = value;
    } else if (name == "retain") {
      CAIRN_ASSIGN_OR_RETURN(config.retain_seconds, ParseRetention(value));
      config.retain_text = value;
      have_retain = true;
    } else if (name == "part-size") {
      CAIRN_ASSIGN_OR_RETURN(config.part_size, ParseSize(value));
      if (config.part_size < kMinPartSize || config.part_size > kMaxPartSize) {
        return BadUrl("part-size must be between 5MiB and 5GiB");
      }
    } else if (LooksLikeCredential(name)) {
      return BadUrl(
          "credentials must not be part of the URL; set AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY or a credentials file");
    } else {
      return BadUrl(
          "unknown parameter '" + std::string(name) +
          "' (known: endpoint, region, ca-file, profile, object-lock, retain, part-size)");
    }
  }
  if (!have_endpoint) return BadUrl("endpoint=http(s)://HOST:PORT is required");
  if (config.object_lock_mode.empty() != !have_retain) {
    return BadUrl("object-lock and retain go together (object-lock=GOVERNANCE&retain=10y)");
  }
  if (have_retain && config.retain_seconds == 0) return BadUrl("retain must be more than 0");
  return config;
}

std::string S3DisplayUrl(const S3Config& config) {
  std::string url = "s3://" + config.bucket;
  if (!config.prefix.empty()) url += "/" + config.prefix;
  url += "?endpoint=" + config.endpoint + "&region=" + config.region;
  if (!config.ca_file.empty()) url += "&ca-file=" + config.ca_file;
  if (!config.profile.empty()) url += "&profile=" + config.profile;
  if (!config.object_lock_mode.empty()) {
    url += "&object-lock=" + config.object_lock_mode + "&retain=" + config.retain_text;
  }
  return url;
}

Result<S3Credentials> LoadS3Credentials(const std::string& named_profile) {
  S3Credentials creds;
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (named_profile.empty() && id != nullptr && secret != nullptr && *id != '\0' &&
      *secret != '\0') {
    creds.access_key = id;
    creds.secret_key = secret;
    if (const char* token = std::getenv("AWS_SESSION_TOKEN")) creds.session_token = token;
    return creds;
  }
  std::string file;
  if (const char* named = std::getenv("AWS_SHARED_CREDENTIALS_FILE"); named && *named) {
    file = named;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    file = std::string(home) + "/.aws/credentials";
  }
  std::string profile = named_profile.empty() ? "default" : named_profile;
  if (const char* p = std::getenv("AWS_PROFILE"); named_profile.empty() && p && *p) profile = p;
  std::ifstream in(file);
  if (file.empty() || !in) {
    return Status::PermissionDenied(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "AWS_SHARED_CREDENTIALS_FILE (not readable: '" +
        file + "')");
  }
  std::map<std::string, std::string> values;
  std::string line, section;
  while (std::getline(in, line)) {
    std::string text = Trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = Trim(std::string_view(text).substr(1, text.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = Trim(std::string_view(section).substr(8));
      continue;
    }
    size_t eq = text.find('=');
    if (section != profile || eq == std::string::npos) continue;
    values[Trim(std::string_view(text).substr(0, eq))] =
        Trim(std::string_view(text).substr(eq + 1));
  }
  creds.access_key = values["aws_access_key_id"];
  creds.secret_key = values["aws_secret_access_key"];
  creds.session_token = values["aws_session_token"];
  if (creds.access_key.empty() || creds.secret_key.empty()) {
    return Status::PermissionDenied("no S3 credentials for profile '" + profile + "' in " + file +
                                    " (needs aws_access_key_id and aws_secret_access_key)");
  }
  return creds;
}

}  // namespace cairn::repo
