// Reads Dovecot's parsed passdb list (struct auth, struct auth_passdb from
// auth.h) to refuse a configuration in which the referral passdb would be
// unsafe or silently ineffective (see passdb_chain.h).
extern "C" {
#include "auth-common.h"
#include "array.h"
#include "auth.h"
#include "passdb.h"
}

#include "dovecot_compat.h"
#include "passdb_chain.h"
#include "passdb_chain_rules.h"

namespace dref {
namespace {

std::string checkOne(const struct auth* auth, const struct auth_passdb* mine, bool passwordMode) {
    PassdbPosition pos;
    pos.first = auth->passdbs == mine;
    for (const struct auth_passdb* p = auth->passdbs; p != nullptr && p != mine; p = p->next) {
        if (p->result_success == AUTH_DB_RULE_CONTINUE ||
            p->result_success == AUTH_DB_RULE_CONTINUE_OK)
            pos.handedOver = true;
    }
    pos.skip = mine->skip == AUTH_PASSDB_SKIP_UNAUTHENTICATED ? PassdbSkip::Unauthenticated
               : mine->skip == AUTH_PASSDB_SKIP_AUTHENTICATED ? PassdbSkip::Authenticated
                                                              : PassdbSkip::Never;
    pos.internalFailReturnsFail = mine->result_internalfail == AUTH_DB_RULE_RETURN_FAIL;
    const std::string problem = passdbChainProblem(pos, passwordMode);
    if (problem.empty()) return "";
    return "passdb referral (" + authScope(auth) + "): " + problem;
}

}  // namespace

std::string checkPassdbChain(const struct passdb_module* ours, bool passwordMode) {
    unsigned int count = 0;
    struct auth* const* list = array_get(&auths, &count);
    for (unsigned int i = 0; i < count; ++i) {
        for (const struct auth_passdb* p = list[i]->passdbs; p != nullptr; p = p->next) {
            if (p->passdb != ours) continue;
            std::string error = checkOne(list[i], p, passwordMode);
            if (!error.empty()) return error;
        }
        for (const struct auth_passdb* p = list[i]->masterdbs; p != nullptr; p = p->next) {
            if (p->passdb == ours)
                return "passdb referral: cannot be used as a master passdb";
        }
    }
    return "";
}

}  // namespace dref
