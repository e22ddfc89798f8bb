// A remote deposit (issue 17): the source streamed to POST /v1/deposits/{partner}/{object} of
// `cairn serve`, never whole in memory on this side. A serialized bag (.tar, .tar.gz, .tgz,
// .zip) is sent as is; a bag folder (one holding bagit.txt) as a tar made on the fly.
#ifndef CAIRN_OPS_CLIENT_DEPOSIT_UPLOAD_H_
#define CAIRN_OPS_CLIENT_DEPOSIT_UPLOAD_H_

#include <string>

#include "ops/client/api_client.h"

namespace cairn::client {

// Sends `source` as the next version of partner/object. The answer: 201 with the deposit's
// JSON (stored, report, receipt: as `cairn deposit --json`) or 422 with the refusal's.
// InvalidArgument for a source that is neither a serialized bag nor a bag folder (a plain
// folder is bagged by a local deposit only); other errors as ApiClient::PostStream.
Result<ApiClient::Answer> UploadDeposit(ApiClient& api, const std::string& partner,
                                        const std::string& object, const std::string& source);

}  // namespace cairn::client

#endif  // CAIRN_OPS_CLIENT_DEPOSIT_UPLOAD_H_
