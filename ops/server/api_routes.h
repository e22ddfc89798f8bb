// The routes of `cairn serve` under /v1/ (docs/API.md, docs/openapi.yaml). Each route asks
// repo::access (Authorize, ScopePartner) before it touches anything, then calls the library
// function the matching CLI verb calls and shapes the answer with ops/server/json_views.h.
// Every route opens the repository at `repo_root` for the time of its request.
#ifndef CAIRN_OPS_SERVER_API_ROUTES_H_
#define CAIRN_OPS_SERVER_API_ROUTES_H_

#include <memory>
#include <string>

#include "ops/server/router.h"
#include "ops/server/upload_store.h"

namespace cairn::server {

// GET /v1/whoami, /v1/objects, /v1/objects/{partner}/{object}, /v1/usage, /v1/events,
// /v1/policy.
void AddReadRoutes(Router& router, const std::string& repo_root);

// GET /v1/audit/runs, /v1/audit/runs/{run}; operator only: GET /v1/sites, GET and POST
// /v1/partners.
void AddAdminRoutes(Router& router, const std::string& repo_root);

// Operator only: GET and POST /v1/principals, POST /v1/principals/{name}/disable; GET and POST
// /v1/schedules, DELETE /v1/schedules/{name}; PUT /v1/policy and /v1/policy/{partner}.
void AddOperatorRoutes(Router& router, const std::string& repo_root);

// POST /v1/deposits/{partner}/{object}: a serialized bag streamed in the body; GET
// /v1/objects/{partner}/{object}/versions/{version}/content: a version as a tar.
void AddDepositRoutes(Router& router, const std::string& repo_root);

// Issue 18 (ops/server/withdraw_routes.cc): GET and POST /v1/withdrawals, POST
// /v1/withdrawals/{id}/approve and /cancel, GET and POST /v1/holds, POST
// /v1/holds/{partner}/{object}/remove.
void AddWithdrawRoutes(Router& router, const std::string& repo_root);

// POST /v1/uploads/{partner}/{object}, GET and DELETE /v1/uploads/{upload}, PUT
// /v1/uploads/{upload}/parts/{part}, POST /v1/uploads/{upload}/complete: resumable deposits
// (ops/server/upload_store.h).
void AddUploadRoutes(Router& router, const std::string& repo_root,
                     std::shared_ptr<UploadStore> uploads);

// Deposits the serialized bag at `archive` as the next version of partner/object for
// `principal` (as `cairn deposit --json`): 201 stored or 422 refused, with the document the
// verb prints, `label` standing for the archive's path in it. Access is the caller's to check.
Result<ApiResponse> DepositArchive(const std::string& repo_root, const repo::Principal& principal,
                                   const std::string& partner, const std::string& object,
                                   const std::string& archive, const std::string& label);

// Adds every route of the API to `router`, as its file words each answer; `uploads` holds the
// resumable uploads (nullptr: a store with the default options).
void AddRoutes(Router& router, const std::string& repo_root, std::shared_ptr<UploadStore> uploads);

// Every route of the API (AddRoutes), each answering a principal who is not an operator in its
// terms: no answer, error, header or trailer names the server's folders or its sites' URLs, and
// the library's advice to run the operator's commands is said as the consortium's operator's
// task (views::ForPrincipal, views::ServerLocations).
Router MakeApiRouter(const std::string& repo_root, std::shared_ptr<UploadStore> uploads = nullptr);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_API_ROUTES_H_
