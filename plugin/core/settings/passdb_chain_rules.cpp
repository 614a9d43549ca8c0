#include "passdb_chain_rules.h"

namespace dref {

std::string passdbChainProblem(const PassdbPosition& pos, bool passwordMode) {
    if (passwordMode) {
        if (pos.skip == PassdbSkip::Unauthenticated)
            return "password_attribute is set (password mode: this passdb checks the password), "
                   "but skip = unauthenticated lets it run only after another passdb checked it: "
                   "remove skip = unauthenticated, or unset password_attribute for chain mode";
    } else {
        if (pos.first)
            return "must not be the first passdb: put it after the passdb that checks the "
                   "password, or set password_attribute in the settings file (password mode)";
        if (!pos.handedOver)
            return "no earlier passdb has result_success = continue-ok, so this one would never "
                   "run";
        if (pos.skip != PassdbSkip::Unauthenticated)
            return "needs skip = unauthenticated (a referral must never answer a failed "
                   "password, RFC 2221 section 6)";
    }
    if (!pos.internalFailReturnsFail)
        return "needs result_internalfail = return-fail (otherwise a directory failure becomes "
               "a local login)";
    return "";
}

}  // namespace dref
