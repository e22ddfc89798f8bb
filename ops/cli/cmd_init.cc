// `cairn init [REPO]`: a new repository (REPO defaults to --repo, then $CAIRN_REPO) with its
// catalog, two posix sites (REPO/sites/a, REPO/sites/b) and a default policy of two copies.
#include <iostream>
#include <memory>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "policies/policy.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::cli {

void RegisterInit(CLI::App& app, Globals& g) {
  auto root = std::make_shared<std::string>();
  auto group = std::make_shared<std::string>();
  std::string policy = policies::BuiltinDefaultPolicyText();  // "copies: 2\n"
  policy.pop_back();
  CLI::App* cmd = app.add_subcommand(
      "init", "make a new repository: catalog, posix sites a and b, default policy " + policy);
  cmd->add_option("REPO", *root,
                  "the new repository folder (must not exist or be empty; default: --repo, "
                  "then $CAIRN_REPO)");
  cmd->add_option("--group", *group,
                  "share the repository with this group (setgid folders 2770, files 0660); "
                  "default: private to its owner (folders 0700, files 0600)");
  cmd->footer("Exit codes: 0 made; 2 could not run (folder not empty, not writable).\n");
  cmd->callback([root, group, &g] {
    if (root->empty()) {
      // `export CAIRN_REPO=...` (init's own advice) or --repo names it as for every other verb.
      Result<std::string> named = RepoPath(g);
      if (!named.ok()) {
        g.exit_code = ReportError(Status::InvalidArgument(
            "no repository folder: cairn init REPO (or --repo REPO, or set CAIRN_REPO)"));
        return;
      }
      *root = *named;
    }
    repo::RepositoryOptions options;
    options.group = *group;
    // The sites and the default policy are on both sites from the start: a
    // catalog rebuilt from either gets them back.
    std::vector<std::string> warnings;
    Result<std::unique_ptr<repo::Repository>> made =
        repo::InitRepository(*root, options, &warnings);
    if (!made.ok()) {
      g.exit_code = ReportError(made.status());
      return;
    }
    PrintSettingsWarnings(warnings);
    if (!g.quiet) {
      std::cout << "initialised repository " << (*made)->root() << "\n"
                << "  catalog " << repo::repo_layout::CatalogPath((*made)->root()) << "\n"
                << "  site a  " << repo::repo_layout::SiteDir((*made)->root(), "a") << "\n"
                << "  site b  " << repo::repo_layout::SiteDir((*made)->root(), "b") << "\n"
                << "  default policy: " << policies::BuiltinDefaultPolicyText() << "  access: "
                << ((*made)->modes().shared ? "shared with group " + *group + " (2770/0660)"
                                            : std::string("private to its owner (0700/0600)"))
                << "\n"
                << "next: export CAIRN_REPO=" << (*made)->root()
                << "; cairn partner add ID; cairn deposit ID FOLDER\n";
    }
  });
}

}  // namespace cairn::cli
