// The text of `cairn show`, written part by part as the parts come: from the catalog while a
// version's files stream by (local), or from the server's show document (remote). One printer,
// so that both print the same lines.
#ifndef CAIRN_OPS_CLI_SHOW_TEXT_H_
#define CAIRN_OPS_CLI_SHOW_TEXT_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "repo/catalog/inventory.h"
#include "repo/principal.h"

namespace cairn::cli {

// Buffered writes to stdout: 200,000 lines must not cost 200,000 syscalls.
class Out {
 public:
  ~Out() { Flush(); }
  Out& operator<<(std::string_view s);
  void Flush();

 private:
  std::string buf_;
};

// One line of the version list, as printed.
struct VersionLine {
  uint32_t version = 0;
  std::string created;  // FormatUtc text
  std::string depositor;
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// Copies per site and state; the fewest that count toward the policy, and how many it wants.
struct CopySummary {
  uint64_t min_ok = 0;
  uint64_t wanted = 0;
  std::string policy_text;
  std::map<std::string, std::map<std::string, uint64_t>> by_site;
};

class ShowText {
 public:
  // `reader`: the role of who reads the text (locally the host's operator), for the words of
  // what it cannot do itself (UnverifiedHint).
  ShowText(Out& out, bool no_files, repo::Role reader = repo::Role::kOperator)
      : out_(out), no_files_(no_files), reader_(reader) {}
  // The object's versions, then the head of the chosen one, then "tag files:".
  void Head(const std::string& partner, const std::string& object,
            const std::vector<VersionLine>& versions, const VersionLine& chosen);
  void TagFile(const repo::FileCopies& file);
  // "payload files:" (unless no_files), then each file.
  void BeginPayload();
  void PayloadFile(const repo::FileCopies& file);
  // "empty folders:" and each ("data/a/b/"), unless no_files; nothing when there are none.
  void EmptyFolders(const std::vector<std::string>& folders);
  void Summary(const CopySummary& summary);

 private:
  void FileLine(const repo::FileCopies& file);
  Out& out_;
  bool no_files_;
  repo::Role reader_;
};

// What checks the copies of `site` not yet verified, as told to `reader`: the operator runs
// `cairn audit run --site SITE` on the server's host; an auditor, who starts no audit (no route
// does, and the CLI on the host acts as the operator), reads what the consortium's audit found
// with `cairn audit report`; a partner's principal is told the consortium's auditor checks them.
std::string UnverifiedHint(repo::Role reader, const std::string& site);

// Whether the show document of the server has copies not yet verified (whose line's words
// depend on who reads it: UnverifiedHint).
bool HasUnverifiedCopies(const nlohmann::json& doc);

// Prints the show document of the server (GET /v1/objects/P/O) through ShowText, for a reader of
// role `reader`; false when the document lacks what the text needs.
bool PrintShowDocument(const nlohmann::json& doc, bool no_files, repo::Role reader);

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_SHOW_TEXT_H_
