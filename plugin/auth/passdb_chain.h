#pragma once
// Startup check of the passdb chain the referral driver relies on.
// Dovecot glue (auth process); include only inside extern "C" users.
#include <string>

struct passdb_module;

namespace dref {

// Checks every passdb block that uses `ours` (all auth services) with
// passdbChainProblem() (plugin/core/settings/passdb_chain_rules.h: chain
// mode needs an earlier password passdb, continue-ok and
// skip = unauthenticated; password mode may stand first; both need
// result_internalfail = return-fail), and that it is no master passdb.
// Returns "" when the chain is usable, else one line naming the problem.
std::string checkPassdbChain(const struct passdb_module* ours, bool passwordMode);

}  // namespace dref
