// The routes of `cairn serve` under /v1/ (docs/API.md, docs/openapi.yaml). Each route asks
// repo::access (Authorize, ScopePartner) before it touches anything, then calls the library
// function the matching CLI verb calls and shapes the answer with ops/server/json_views.h.
// Every route opens the repository at `repo_root` for the time of its request.
#ifndef CAIRN_OPS_SERVER_API_ROUTES_H_
#define CAIRN_OPS_SERVER_API_ROUTES_H_

#include <string>

#include "ops/server/router.h"

namespace cairn::server {

// GET /v1/whoami, /v1/objects, /v1/objects/{partner}/{object}, /v1/usage, /v1/events,
// /v1/policy.
void AddReadRoutes(Router& router, const std::string& repo_root);

// GET /v1/audit/runs, /v1/audit/runs/{run}; operator only: GET /v1/sites, GET and POST
// /v1/partners.
void AddAdminRoutes(Router& router, const std::string& repo_root);

// POST /v1/deposits/{partner}/{object}: a serialized bag streamed in the body; GET
// /v1/objects/{partner}/{object}/versions/{version}/content: a version as a tar.
void AddDepositRoutes(Router& router, const std::string& repo_root);

// Issue 18 (ops/server/withdraw_routes.cc): GET and POST /v1/withdrawals, POST
// /v1/withdrawals/{id}/approve and /cancel, GET and POST /v1/holds, POST
// /v1/holds/{partner}/{object}/remove.
void AddWithdrawRoutes(Router& router, const std::string& repo_root);

// Every route of the API.
Router MakeApiRouter(const std::string& repo_root);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_API_ROUTES_H_
