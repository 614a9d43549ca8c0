#include "backend_referral.h"

#include <optional>
#include <utility>

#include "ascii.h"
#include "imap_url.h"
#include "referral_decision.h"
#include "response_text.h"

namespace dref {

namespace {

constexpr std::string_view kNo = "NO [";
constexpr std::string_view kReferral = "REFERRAL";
constexpr std::string_view kScheme = "imap://";

BackendReferralCheck refuse(BackendReferralCheck out, std::string why) {
    out.verdict = BackendReferralVerdict::Refuse;
    out.why = std::move(why);
    return out;
}

BackendReferralCheck checkImpl(std::string_view reply, const DecisionSettings& settings,
                               const FrontFacts& front) {
    BackendReferralCheck out;
    if (reply.size() < kNo.size() || !equalsIgnoreCaseAscii(reply.substr(0, kNo.size()), kNo))
        return out;
    const std::string_view code = reply.substr(kNo.size());
    // The response code's name ends at the space before its argument or at
    // "]"; "REFERRALX" or "REFERRAL\t..." is another code, which Dovecot
    // does not follow either.
    const size_t nameEnd = code.find_first_of(" ]");
    if (!equalsIgnoreCaseAscii(code.substr(0, nameEnd), kReferral)) return out;

    if (nameEnd == std::string_view::npos || code[nameEnd] != ' ')
        return refuse(out, "REFERRAL without a URL");
    const std::string_view argument = code.substr(nameEnd + 1);
    const size_t close = argument.find(']');
    if (close == std::string_view::npos) return refuse(out, "REFERRAL code without ']'");
    const std::string_view url = argument.substr(0, close);
    if (url.empty()) return refuse(out, "REFERRAL without a URL");
    // RFC 2193 allows several URLs; which one a proxy would take is not
    // ours to guess.  Also catches stray spaces.
    if (url.find(' ') != std::string_view::npos)
        return refuse(out, "more than one URL in the REFERRAL: \"" + quoteForLog(url) + "\"");

    std::string error;
    const std::optional<ImapUrlParts> parts = parseImapUrl(url, &error);
    if (!parts) return refuse(out, "unusable URL \"" + quoteForLog(url) + "\": " + error);

    // The host and port the redirect goes to, taken from the raw authority
    // the way any RFC 3986 parser splits it (userinfo up to the first '@',
    // the authority up to the first '/'), and required to be what
    // parseImapUrl() saw: the check must be about the address Dovecot would
    // connect to, not about our reading of the URL.
    std::string_view authority = url.substr(kScheme.size());
    authority = authority.substr(0, authority.find('/'));
    const size_t at = authority.find('@');
    const std::string_view hostport =
        at == std::string_view::npos ? authority : authority.substr(at + 1);
    const size_t colon = hostport.find(':');
    const std::string_view rawHost = hostport.substr(0, colon);
    if (rawHost != parts->host)
        return refuse(out, "ambiguous host in URL \"" + quoteForLog(url) + "\"");
    out.host = parts->host;
    out.port = colon == std::string_view::npos ? front.defaultPort : parts->port;

    // This server first: a referral back to the front is the loop, and the
    // log should say so even when allowed_hosts would refuse it too.
    if (isThisServer(HomeServer{out.host, out.port}, settings.localNames))
        return refuse(out, "\"" + quoteForLog(out.host) + ":" + std::to_string(out.port) +
                               "\" is this server (local_names)");
    const std::string_view listener = unmapIpv4(front.listenerIp);
    if (!listener.empty() && equalsIgnoreCaseAscii(listener, out.host))
        return refuse(out, "\"" + quoteForLog(out.host) +
                               "\" is this server (the address the client connected to)");
    if (!isAllowedTarget(out.host, settings.allowedHosts))
        return refuse(out, "host \"" + quoteForLog(out.host) + "\" is not in allowed_hosts");
    out.verdict = BackendReferralVerdict::Follow;
    return out;
}

}  // namespace

BackendReferralCheck checkBackendLoginReferral(std::string_view reply,
                                               const DecisionSettings& settings,
                                               const FrontFacts& front) {
    try {
        return checkImpl(reply, settings, front);
    } catch (...) {
        // Out of memory: going nowhere is the answer that is always safe.
        BackendReferralCheck out;
        out.verdict = BackendReferralVerdict::Refuse;
        return out;
    }
}

}  // namespace dref
