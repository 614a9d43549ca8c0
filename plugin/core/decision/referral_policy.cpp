#include "referral_policy.h"
#include "ascii.h"

namespace dref {

std::optional<ReferralPolicy> parseReferralPolicy(std::string_view s) {
    if (equalsIgnoreCaseAscii(s, "refer")) return ReferralPolicy::Refer;
    if (equalsIgnoreCaseAscii(s, "suggest")) return ReferralPolicy::Suggest;
    if (equalsIgnoreCaseAscii(s, "proxy")) return ReferralPolicy::Proxy;
    if (equalsIgnoreCaseAscii(s, "proxy-suggest")) return ReferralPolicy::ProxySuggest;
    if (equalsIgnoreCaseAscii(s, "local")) return ReferralPolicy::Local;
    return std::nullopt;
}

const char* referralPolicyName(ReferralPolicy p) {
    switch (p) {
        case ReferralPolicy::Refer: return "refer";
        case ReferralPolicy::Suggest: return "suggest";
        case ReferralPolicy::Proxy: return "proxy";
        case ReferralPolicy::ProxySuggest: return "proxy-suggest";
        case ReferralPolicy::Local: return "local";
    }
    return "unknown";
}

}  // namespace dref
