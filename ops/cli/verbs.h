// The verbs of the `cairn` command: one Register function per file in ops/cli/.
#ifndef CAIRN_OPS_CLI_VERBS_H_
#define CAIRN_OPS_CLI_VERBS_H_

#include "ops/cli/cli.h"

namespace cairn::cli {

void RegisterVersion(CLI::App& app, Globals& g);         // version.cc
void RegisterBagValidate(CLI::App& app, Globals& g);     // bag_validate.cc
void RegisterBagCreate(CLI::App& app, Globals& g);       // bag_create.cc
void RegisterInit(CLI::App& app, Globals& g);            // init.cc
void RegisterSite(CLI::App& app, Globals& g);            // site.cc
void RegisterDeposit(CLI::App& app, Globals& g);         // deposit.cc
void RegisterReplicate(CLI::App& app, Globals& g);       // replicate.cc
void RegisterList(CLI::App& app, Globals& g);            // list.cc
void RegisterShow(CLI::App& app, Globals& g);            // show.cc
void RegisterRestore(CLI::App& app, Globals& g);         // restore.cc
void RegisterUsage(CLI::App& app, Globals& g);           // usage.cc
void RegisterEvents(CLI::App& app, Globals& g);          // events.cc
void RegisterCatalogRebuild(CLI::App& app, Globals& g);  // catalog_rebuild.cc
void RegisterSiteResync(CLI::App& app, Globals& g);      // site_resync.cc
void RegisterPartner(CLI::App& app, Globals& g);         // partner.cc
void RegisterPolicy(CLI::App& app, Globals& g);          // policy.cc
void RegisterAudit(CLI::App& app, Globals& g);           // audit.cc
void RegisterDaemon(CLI::App& app, Globals& g);          // daemon.cc
void RegisterGc(CLI::App& app, Globals& g);              // gc.cc
void RegisterPrincipal(CLI::App& app, Globals& g);       // principal.cc
void RegisterToken(CLI::App& app, Globals& g);           // token.cc
void RegisterServe(CLI::App& app, Globals& g);           // serve.cc
void RegisterWithdraw(CLI::App& app, Globals& g);        // withdraw.cc (withdraw, hold)
void RegisterWhoami(CLI::App& app, Globals& g);          // whoami.cc

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_VERBS_H_
