// Classification of an IMAP login attempt's outcome, for the load generator.
#pragma once

#include <string>

namespace dref::perf {

// Every outcome the load generator counts.  The order is the order of the
// summary table.
enum class ReplyClass {
    Referral,       // tag NO [REFERRAL ...]        (RFC 2221 login referral)
    OkReferral,     // tag OK [REFERRAL ...]        (suggest policy)
    OkLocal,        // tag OK, served here (the local marker is in the line)
    OkProxied,      // tag OK without the local marker (the home server's line)
    Ok,             // tag OK, no local marker configured
    AuthFailed,     // tag NO [AUTHENTICATIONFAILED]
    Unavailable,    // tag NO [UNAVAILABLE]
    ContactAdmin,   // tag NO [CONTACTADMIN]
    NoOther,        // any other tagged NO
    Bad,            // tagged BAD
    ByeGreeting,    // * BYE as the greeting (drain mode)
    Bye,            // untagged BYE, then the connection closed
    Closed,         // connection closed before the tagged reply
    Timeout,        // no tagged reply within --timeout
    ConnectError,   // connect() failed
    Other,          // anything else
    Count_
};

constexpr int kReplyClassCount = static_cast<int>(ReplyClass::Count_);

const char* replyClassName(ReplyClass c);
// "referral" -> ReplyClass::Referral; false for an unknown name.
bool parseReplyClass(const std::string& name, ReplyClass* out);

// Classifies the text after "<tag> " of the tagged reply to LOGIN or
// AUTHENTICATE.  local_marker: a word only this server (not a home server it
// proxies to) puts in its OK line, e.g. MAILBOX-REFERRALS; empty = no
// local/proxied distinction.
ReplyClass classifyTagged(const std::string& rest, const std::string& local_marker);

}  // namespace dref::perf
