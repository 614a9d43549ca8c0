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

namespace dref {
namespace {

std::string checkOne(const struct auth* auth, const struct auth_passdb* mine) {
    const std::string where = "passdb referral (" + authScope(auth) + "): ";
    bool handedOver = false;
    for (const struct auth_passdb* p = auth->passdbs; p != nullptr && p != mine; p = p->next) {
        if (p->result_success == AUTH_DB_RULE_CONTINUE ||
            p->result_success == AUTH_DB_RULE_CONTINUE_OK)
            handedOver = true;
    }
    if (auth->passdbs == mine)
        return where + "must not be the first passdb: put it after the passdb that checks "
                       "the password";
    if (!handedOver)
        return where + "no earlier passdb has result_success = continue-ok, so this one "
                       "would never run";
    if (mine->skip != AUTH_PASSDB_SKIP_UNAUTHENTICATED)
        return where + "needs skip = unauthenticated (a referral must never answer a failed "
                       "password, RFC 2221 section 6)";
    if (mine->result_internalfail != AUTH_DB_RULE_RETURN_FAIL)
        return where + "needs result_internalfail = return-fail (otherwise a directory "
                       "failure becomes a local login)";
    return "";
}

}  // namespace

std::string checkPassdbChain(const struct passdb_module* ours) {
    unsigned int count = 0;
    struct auth* const* list = array_get(&auths, &count);
    for (unsigned int i = 0; i < count; ++i) {
        for (const struct auth_passdb* p = list[i]->passdbs; p != nullptr; p = p->next) {
            if (p->passdb != ours) continue;
            std::string error = checkOne(list[i], p);
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
