#include "referral_policy.h"

#include <cctype>

namespace dref {

namespace {
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}
}  // namespace

std::optional<ReferralPolicy> parseReferralPolicy(std::string_view s) {
    if (equalsIgnoreCase(s, "refer")) return ReferralPolicy::Refer;
    if (equalsIgnoreCase(s, "suggest")) return ReferralPolicy::Suggest;
    if (equalsIgnoreCase(s, "proxy")) return ReferralPolicy::Proxy;
    if (equalsIgnoreCase(s, "local")) return ReferralPolicy::Local;
    return std::nullopt;
}

const char* referralPolicyName(ReferralPolicy p) {
    switch (p) {
        case ReferralPolicy::Refer: return "refer";
        case ReferralPolicy::Suggest: return "suggest";
        case ReferralPolicy::Proxy: return "proxy";
        case ReferralPolicy::Local: return "local";
    }
    return "unknown";
}

}  // namespace dref
