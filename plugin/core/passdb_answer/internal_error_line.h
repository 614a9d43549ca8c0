#pragma once
// The error line for an internal error (an exception: no memory, a failed
// system call) that ended the referral passdb's work on one login, which
// is then answered NO [UNAVAILABLE].  No Dovecot include: unit-testable.
#include <string>
#include <string_view>

namespace dref {

// Where the work on the login stopped.
enum class PassdbStep {
    Lookup,    // start(): the login's facts, the placement, the directory lookup
    Decision,  // finish(): password check, decision, answer
};

// "home server lookup" or "password check and decision", for the line.
const char* passdbStepName(PassdbStep step);

// "internal error during the <step>: <what>; login answered NO
// [UNAVAILABLE]", `what` quoted for the log and cut at 200 octets;
// "unknown exception" for nullptr (catch (...)).  The login name is not on
// it (the line's event names the user), nor any password: the exceptions
// thrown in the passdb's path carry none.  May throw std::bad_alloc.
std::string internalErrorLogLine(PassdbStep step, const char* what);

}  // namespace dref
