#include "reply_class.h"

#include <strings.h>

namespace dref::perf {
namespace {

const char* const kNames[kReplyClassCount] = {
    "referral", "ok-referral", "ok-local", "ok-proxied", "ok", "authfailed", "unavailable",
    "contactadmin", "no-other", "bad", "bye-greeting", "bye", "closed", "timeout",
    "connect-error", "other",
};

bool startsWithNoCase(const std::string& s, const char* prefix) {
    size_t n = 0;
    while (prefix[n] != '\0') ++n;
    return s.size() >= n && strncasecmp(s.c_str(), prefix, n) == 0;
}

}  // namespace

const char* replyClassName(ReplyClass c) {
    int i = static_cast<int>(c);
    return i >= 0 && i < kReplyClassCount ? kNames[i] : "?";
}

bool parseReplyClass(const std::string& name, ReplyClass* out) {
    for (int i = 0; i < kReplyClassCount; ++i) {
        if (name == kNames[i]) {
            *out = static_cast<ReplyClass>(i);
            return true;
        }
    }
    return false;
}

ReplyClass classifyTagged(const std::string& rest, const std::string& local_marker) {
    if (startsWithNoCase(rest, "OK [REFERRAL ")) return ReplyClass::OkReferral;
    if (startsWithNoCase(rest, "OK")) {
        if (local_marker.empty()) return ReplyClass::Ok;
        return rest.find(local_marker) != std::string::npos ? ReplyClass::OkLocal
                                                            : ReplyClass::OkProxied;
    }
    if (startsWithNoCase(rest, "NO [REFERRAL ")) return ReplyClass::Referral;
    if (startsWithNoCase(rest, "NO [AUTHENTICATIONFAILED]")) return ReplyClass::AuthFailed;
    if (startsWithNoCase(rest, "NO [UNAVAILABLE]")) return ReplyClass::Unavailable;
    if (startsWithNoCase(rest, "NO [CONTACTADMIN]")) return ReplyClass::ContactAdmin;
    if (startsWithNoCase(rest, "NO")) return ReplyClass::NoOther;
    if (startsWithNoCase(rest, "BAD")) return ReplyClass::Bad;
    return ReplyClass::Other;
}

}  // namespace dref::perf
