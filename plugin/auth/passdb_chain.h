#pragma once
// Startup check of the passdb chain the referral driver relies on.
// Dovecot glue (auth process); include only inside extern "C" users.
#include <string>

struct passdb_module;

namespace dref {

// Checks every passdb block that uses `ours` (all auth services):
//  - it is not the first passdb: some earlier passdb must check the password
//    and hand over with result_success = continue-ok (or continue);
//  - skip = unauthenticated: a failed password never reaches the lookup, so
//    no referral and no directory hint is ever given for it (R2221-15);
//  - result_internalfail = return-fail: otherwise Dovecot turns our
//    temporary failure into a success of the earlier passdb (local login).
// Returns "" when the chain is usable, else one line naming the problem.
std::string checkPassdbChain(const struct passdb_module* ours);

}  // namespace dref
