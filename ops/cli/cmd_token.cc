// `cairn token create NAME [--expires 90d|never]`, `token list [--json]`, `token revoke ID`:
// the API tokens principals give `cairn serve` (logic in repo/access/tokens.h). The token is
// printed once, by `create`; nothing else ever prints a secret. Operator verbs.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "audit/schedule.h"
#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "repo/access/principals.h"
#include "repo/access/tokens.h"
#include "repo/catalog/catalog.h"

namespace cairn::cli {
namespace {

struct TokenFlags {
  std::string principal;
  std::string expires = "never";
  std::string id;
  bool json = false;
};

// The lifetime `--expires` gives: nullopt for "never", else a duration ("90d", "12h", "2w").
Result<std::optional<int64_t>> TokenLifetime(const std::string& text) {
  if (text == "never") return std::optional<int64_t>();
  Result<int64_t> lifetime = audit::ParseDuration(text);
  if (!lifetime.ok()) {
    return Status::InvalidArgument("--expires " + text +
                                   ": expected 'never' or a whole number and a unit s, m, h, d "
                                   "or w (e.g. 90d)");
  }
  return std::optional<int64_t>(*lifetime);
}

std::string TimeOrDash(int64_t micros) { return micros ? FormatUtc(micros) : "-"; }

int RunTokenCreate(const TokenFlags& f, const Globals& g) {
  auto lifetime = TokenLifetime(f.expires);
  if (!lifetime.ok()) return ReportError(lifetime.status());
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Catalog& catalog = (*repository)->catalog();
  auto made =
      repo::access::CreateToken(catalog, f.principal, *lifetime, catalog.clock().NowMicros());
  if (!made.ok()) return ReportError(made.status());
  std::cout << made->token << "\n";
  std::cerr << "token " << made->record.id << " for " << made->record.principal << ", expires "
            << (made->record.expires_micros ? FormatUtc(made->record.expires_micros) : "never")
            << ". It is shown only once: store it now (cairn keeps only a hash of it).\n";
  return kExitOk;
}

int RunTokenList(const TokenFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto tokens = repo::access::ListTokens((*repository)->catalog());
  if (!tokens.ok()) return ReportError(tokens.status());
  auto time_or_null = [](int64_t micros) {
    return micros ? nlohmann::json(FormatUtc(micros)) : nlohmann::json(nullptr);
  };
  // A disabled principal's tokens no longer work, whatever their own state: said beside them.
  std::map<std::string, int64_t> disabled;
  if (auto principals = repo::access::ListPrincipals((*repository)->catalog()); principals.ok()) {
    for (const repo::PrincipalRecord& p : *principals) disabled[p.name] = p.disabled_micros;
  }
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const repo::ApiTokenRecord& t : *tokens) {
      out.push_back({{"id", t.id},
                     {"principal", t.principal},
                     {"created", FormatUtc(t.created_micros)},
                     {"expires", time_or_null(t.expires_micros)},
                     {"revoked", time_or_null(t.revoked_micros)},
                     {"last_used", time_or_null(t.last_used_micros.value_or(0))},
                     {"principal_disabled", time_or_null(disabled[t.principal])}});
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::printf("%-12s %-32s %-20s %-20s %-20s %s\n", "ID", "PRINCIPAL", "CREATED", "EXPIRES",
              "REVOKED", "LAST USED");
  for (const repo::ApiTokenRecord& t : *tokens) {
    const std::string who = t.principal + (disabled[t.principal] ? " (disabled)" : "");
    std::printf("%-12s %-32s %-20s %-20s %-20s %s\n", t.id.c_str(), who.c_str(),
                FormatUtc(t.created_micros).c_str(),
                t.expires_micros ? FormatUtc(t.expires_micros).c_str() : "never",
                TimeOrDash(t.revoked_micros).c_str(),
                TimeOrDash(t.last_used_micros.value_or(0)).c_str());
  }
  return kExitOk;
}

int RunTokenRevoke(const TokenFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Catalog& catalog = (*repository)->catalog();
  // Revoked before: said so, with when (the revocation keeps its first time).
  int64_t before = 0;
  if (auto tokens = catalog.ListApiTokens(); tokens.ok()) {
    for (const repo::ApiTokenRecord& t : *tokens) {
      if (t.id == f.id) before = t.revoked_micros;
    }
  }
  Result<std::vector<std::string>> revoked =
      repo::access::RevokeToken(**repository, f.id, catalog.clock().NowMicros());
  if (!revoked.ok()) return ReportError(revoked.status());
  if (!g.quiet) {
    if (before) {
      std::cout << "token " << f.id << " was revoked already, at " << FormatUtc(before) << "\n";
    } else {
      std::cout << "revoked token " << f.id << "\n";
    }
  }
  PrintSettingsWarnings(*revoked);
  return kExitOk;
}

}  // namespace

void RegisterToken(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "token", "create, list and revoke API tokens of principals");
  auto flags = std::make_shared<TokenFlags>();

  CLI::App* create =
      group->add_subcommand("create", "make a token for a principal; prints it once, on stdout");
  create->add_option("NAME", flags->principal, "the principal (cairn principal list)")->required();
  create->add_option("--expires", flags->expires,
                     "how long it works: 90d, 12h, 2w, ... or never (default: never)");
  create->callback([flags, &g]() { g.exit_code = RunTokenCreate(*flags, g); });

  CLI::App* list = group->add_subcommand("list", "list tokens (never their secrets)");
  list->add_flag("--json", flags->json, "print JSON");
  list->callback([flags, &g]() { g.exit_code = RunTokenList(*flags, g); });

  CLI::App* revoke = group->add_subcommand("revoke", "revoke a token: it stops working at once");
  revoke->add_option("ID", flags->id, "the token's id (the 12 hex digits after cairn_)")
      ->required();
  revoke->callback([flags, &g]() { g.exit_code = RunTokenRevoke(*flags, g); });
}

}  // namespace cairn::cli
