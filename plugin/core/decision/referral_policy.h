#pragma once
// What to do with a user whose mailbox lives on another server.
#include <optional>
#include <string>
#include <string_view>

namespace dref {

enum class ReferralPolicy {
    Refer,    // tagged NO [REFERRAL ...] (RFC 2221 §4.1), no local login
    Suggest,  // tagged OK [REFERRAL ...] (R2221-10); only where Dovecot allows it
    Proxy,    // Dovecot's own proxy relays the session to the home server
    // Proxied as Proxy, and the successful login's tagged OK carries the
    // referral (RFC 2221 §4.1): clients that follow it reconnect to their
    // home server, the others keep the proxied session (issue 11).
    ProxySuggest,
    Local,    // serve here whatever the directory says
};

// "refer", "suggest", "proxy", "proxy-suggest", "local" (ASCII
// case-insensitive); nullopt otherwise.
std::optional<ReferralPolicy> parseReferralPolicy(std::string_view s);
const char* referralPolicyName(ReferralPolicy p);

}  // namespace dref
