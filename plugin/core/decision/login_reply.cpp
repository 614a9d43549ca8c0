#include "login_reply.h"

#include "imap_url.h"
#include "response_text.h"

namespace dref {

namespace {

constexpr const char* kUnavailableText = "Your home server cannot be reached from here.";

constexpr std::string_view kReferralCode = "REFERRAL ";

// RFC 2221 §3 NOTE and D-3: ";AUTH=*" unless the site asked for the
// mechanism after AUTHENTICATE.  A LOGIN always gets "*": Dovecot runs LOGIN
// as SASL PLAIN internally, and naming PLAIN would send clients to a
// mechanism the user never chose.
std::string_view authForUrl(const LoginReferralFacts& facts, const LoginReplyPresets& presets) {
    if (facts.command == LoginCommand::Authenticate && presets.authMechanismInUrl &&
        isValidSaslMechanism(facts.mechanism))
        return facts.mechanism;
    return "*";
}

}  // namespace

std::string_view LoginReply::url() const {
    if (!referral) return std::string_view();
    return std::string_view(code).substr(kReferralCode.size());
}

LoginReplyPresets prepareLoginReply(const LoginSettings& settings) {
    LoginReplyPresets presets;
    presets.referralText = wireReferralText(settings.referralText);
    presets.authMechanismInUrl = settings.authMechanismInUrl;
    return presets;
}

void composeLoginReferral(const LoginReferralFacts& facts, const LoginReplyPresets& presets,
                          LoginReply* reply) {
    ImapServerUrlView parts;
    parts.user = facts.user;
    parts.auth = authForUrl(facts, presets);
    parts.host = facts.host;
    parts.port = facts.port;

    reply->code.assign(kReferralCode.data(), kReferralCode.size());
    reply->error.clear();
    if (!appendImapServerUrl(&reply->code, parts, &reply->error)) {
        // D-4, D-17: an empty, IPv6-literal or hostile host never reaches the
        // wire; the client gets a clean NO and the log says why.
        if (!isValidHostName(facts.host)) reply->error = "host is not a DNS name or IPv4 address";
        reply->error = "no login referral for user \"" + quoteForLog(facts.user) + "\": host \"" +
                       quoteForLog(facts.host) + "\" refused (" + reply->error + ")";
        reply->referral = false;
        reply->code = "UNAVAILABLE";
        reply->text = kUnavailableText;
        return;
    }
    reply->referral = true;
    // The prepared text is wire-safe as it is; any other reason is not
    // trusted (an earlier passdb, or Dovecot's own, may have set it).
    if (facts.reason.empty() || facts.reason == presets.referralText)
        reply->text.assign(presets.referralText);
    else
        assignSanitizedResponseText(&reply->text, facts.reason, presets.referralText);
}

void appendReferralNote(std::string* out, std::string_view before, std::string_view url,
                        std::string_view after, LoginCommand command, std::string_view loginUser,
                        std::string_view urlUser) {
    const bool authenticate = command == LoginCommand::Authenticate;
    *out += "; ";
    *out += before;
    *out += "referral ";
    *out += url;
    *out += after;
    // The URL already shows the login name as it is: naming it again would
    // only lengthen the line, and every octet of it costs (issue 13 item 3).
    if (!loginUser.empty() && loginUser == urlUser && isVerbatimUserinfo(loginUser)) {
        *out += authenticate ? " (AUTHENTICATE)" : " (LOGIN)";
        return;
    }
    *out += authenticate ? " (AUTHENTICATE as <" : " (LOGIN as <";
    appendLogItemValue(out, loginUser, 256);
    *out += ">)";
}

std::string composeDrainGreeting(const LoginSettings& settings, std::string* error) {
    if (!isValidHostName(settings.drainHost)) {
        *error = "\"" + quoteForLog(settings.drainHost) +
                 "\" is not a DNS name or IPv4 address";
        return std::string();
    }
    ImapUrlParts parts;
    parts.auth = "*";
    parts.host = settings.drainHost;
    parts.port = settings.drainPort;
    std::optional<std::string> url = buildImapUrl(parts, error);
    if (!url) return std::string();
    return "* BYE [REFERRAL " + *url + "] " +
           sanitizeResponseText(settings.drainText, "Server not accepting connections.") + "\r\n";
}

}  // namespace dref
