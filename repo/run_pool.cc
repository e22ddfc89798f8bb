// IoWorkers: see run_pool.h.
#include "repo/run_pool.h"

#include <algorithm>

namespace cairn::repo {

unsigned IoWorkers(unsigned cores) { return std::clamp(2 * std::max(cores, 1u), 4u, 16u); }

}  // namespace cairn::repo
