#include "target_verdicts.h"

#include "referral_decision.h"
#include "response_text.h"

namespace dref {

TargetVerdicts::Verdict TargetVerdicts::judge(const ImapUrlParts& location) {
    Verdict verdict = Verdict::Usable;
    if (isThisServer(HomeServer{location.host, location.port}, localNames_))
        verdict = Verdict::ThisServer;  // R2193-3: a referral to ourselves would loop
    else if (!isAllowedTarget(location.host, allowedHosts_))
        verdict = Verdict::NotAllowed;
    // Remembered only once the host is stored: a copy that throws leaves
    // nothing remembered rather than this verdict under the last host.
    known_ = false;
    host_ = location.host;
    port_ = location.port;
    verdict_ = verdict;
    known_ = true;
    return verdict;
}

std::string targetVerdictText(const ImapUrlParts& location, TargetVerdicts::Verdict verdict) {
    std::string text = "location " + quoteForLog(location.host) + ":" +
                       std::to_string(location.port);
    switch (verdict) {
        case TargetVerdicts::Verdict::ThisServer:
            return text + " is this server, treated as local";
        case TargetVerdicts::Verdict::NotAllowed:
            return text + " skipped: host not in allowed_hosts";
        case TargetVerdicts::Verdict::Usable:
            break;
    }
    return text + " may be referred to";
}

}  // namespace dref
