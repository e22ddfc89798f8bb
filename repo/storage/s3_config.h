// S3 site settings: parsing an s3:// URL and finding the credentials.
//
//   s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=R
//        [&ca-file=PATH][&profile=NAME]
//        [&object-lock=GOVERNANCE|COMPLIANCE&retain=10y][&part-size=16MiB]
//
// Path-style addressing (ENDPOINT/BUCKET/KEY). Credentials never come from the
// URL: a URL with user info or a credential-looking parameter is refused. They
// come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or
// else from the ini file AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials),
// section AWS_PROFILE (default "default"). A URL with profile=NAME reads that
// section of the credentials file and ignores the AWS_* key variables, so two
// sites can use two accounts.
#ifndef CAIRN_REPO_STORAGE_S3_CONFIG_H_
#define CAIRN_REPO_STORAGE_S3_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn::repo {

struct S3Config {
  std::string bucket;
  std::string prefix;    // "" or "a/b" (no leading or trailing '/')
  std::string endpoint;  // "http://127.0.0.1:8000", no trailing '/'
  std::string region = "us-east-1";
  std::string ca_file;           // private CA bundle for https; "" = system store
  std::string profile;           // named credentials-file section; "" = environment first
  std::string object_lock_mode;  // "", "GOVERNANCE" or "COMPLIANCE"
  uint64_t retain_seconds = 0;   // with object_lock_mode: retention from the PUT
  std::string retain_text;       // "10y" as written, for DisplayUrl
  // Objects up to this size go up in one PUT; larger ones in parts of this size
  // (also the writer's memory buffer; at most 10,000 parts). Minimum 5 MiB.
  uint64_t part_size = 16ull << 20;
  // Attempts for a writer's own requests (parts, small PUTs, completions: see
  // S3Request::retry) that fail with a retryable error (5xx, timeout,
  // connection refused), with jittered exponential backoff from
  // retry_delay_ms. Other calls are retried by RetryBackend (retry_backend.h).
  int max_attempts = 4;
  int retry_delay_ms = 100;
  int connect_timeout_ms = 5000;
  // A transfer slower than 1 byte/s for this long is abandoned (Unavailable).
  int stall_timeout_s = 30;
};

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // optional (temporary credentials)
};

// Parses an s3:// URL. InvalidArgument naming the rule on a malformed URL,
// an unknown parameter or credentials in the URL; the error never repeats a
// parameter's value, so a secret pasted by mistake is not echoed.
Result<S3Config> ParseS3Url(std::string_view url);

// The URL for display: bucket, prefix and parameters, never a secret.
std::string S3DisplayUrl(const S3Config& config);

// Credentials from the environment or the named credentials file (see the
// file comment); `profile` non-empty: only that section of the file.
// PermissionDenied if none are found; the error names where it looked, never a key.
Result<S3Credentials> LoadS3Credentials(const std::string& profile = "");

// "10y", "30d", "12h", "90m", "3600s" or plain seconds -> seconds.
Result<uint64_t> ParseRetention(std::string_view text);

// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when
// keep_slash), as SigV4 canonical requests expect.
std::string S3UriEncode(std::string_view text, bool keep_slash);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_S3_CONFIG_H_
