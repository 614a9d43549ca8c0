#pragma once
// Where the referral passdb may stand in Dovecot's passdb chain, as plain
// data (the auth glue, plugin/auth/passdb_chain.cpp, reads Dovecot's parsed
// passdb list into it and stops the auth process on a problem).
#include <string>

namespace dref {

enum class PassdbSkip { Never, Authenticated, Unauthenticated };

struct PassdbPosition {
    bool first = false;       // no passdb before it
    bool handedOver = false;  // an earlier passdb has result_success = continue or continue-ok
    PassdbSkip skip = PassdbSkip::Never;
    bool internalFailReturnsFail = false;  // result_internalfail = return-fail
};

// "" when the referral passdb at `pos` is usable, else one sentence naming
// the problem and the fix.
//  Chain mode (password_attribute unset): an earlier passdb checks the
//   password and hands over (continue-ok), and this one has
//   skip = unauthenticated, so a failed password never reaches it and never
//   gets a referral (R2221-15).
//  Password mode: this passdb checks the password itself, so it may be the
//   first or only one; skip = unauthenticated would mean it never checks a
//   password (every login it sees was already verified), so it is refused
//   as a contradiction rather than silently ignored.
//  Both: result_internalfail = return-fail, otherwise Dovecot turns our
//   temporary failure into a success of an earlier passdb (a local login)
//   or tries a later one.
std::string passdbChainProblem(const PassdbPosition& pos, bool passwordMode);

}  // namespace dref
