#include "login_reply.h"

#include "imap_url.h"
#include "response_text.h"

namespace dref {

namespace {

constexpr const char* kUnavailableText = "Your home server cannot be reached from here.";

// RFC 2221 §3 NOTE and D-3: ";AUTH=*" unless the site asked for the
// mechanism after AUTHENTICATE.  A LOGIN always gets "*": Dovecot runs LOGIN
// as SASL PLAIN internally, and naming PLAIN would send clients to a
// mechanism the user never chose.
std::string authForUrl(const LoginReferralFacts& facts, const LoginSettings& settings) {
    if (facts.command == LoginCommand::Authenticate && settings.authMechanismInUrl &&
        isValidSaslMechanism(facts.mechanism))
        return facts.mechanism;
    return "*";
}

}  // namespace

LoginReply composeLoginReferral(const LoginReferralFacts& facts, const LoginSettings& settings) {
    LoginReply reply;
    ImapUrlParts parts;
    parts.user = facts.user;
    parts.auth = authForUrl(facts, settings);
    parts.host = facts.host;
    parts.port = facts.port;

    std::string error;
    std::optional<std::string> url;
    if (!isValidHostName(facts.host))
        error = "host is not a DNS name or IPv4 address";
    else
        url = buildImapUrl(parts, &error);
    if (!url) {
        // D-4, D-17: an empty, IPv6-literal or hostile host never reaches the
        // wire; the client gets a clean NO and the log says why.
        reply.referral = false;
        reply.code = "UNAVAILABLE";
        reply.text = kUnavailableText;
        reply.log = "no login referral for user \"" + quoteForLog(facts.user) + "\": host \"" +
                    quoteForLog(facts.host) + "\" refused (" + error + ")";
        return reply;
    }
    reply.referral = true;
    reply.url = *url;
    reply.code = "REFERRAL " + *url;
    reply.text = sanitizeResponseText(facts.reason.empty() ? settings.referralText : facts.reason,
                                      settings.referralText);
    reply.log = "login referral to " + *url;
    return reply;
}

std::string loginLogLine(const std::string& message, const LoginLogFacts& facts) {
    std::string line = message;
    line.reserve(message.size() + 128);
    line += ": user=<";
    line += quoteForLog(facts.user, 256);
    line += ">, command=";
    line += facts.command == LoginCommand::Authenticate ? "AUTHENTICATE" : "LOGIN";
    line += ", method=";
    line += quoteForLog(facts.mechanism, 64);
    line += ", rip=";
    line += quoteForLog(facts.remoteIp, 64);
    line += ", lip=";
    line += quoteForLog(facts.localIp, 64);
    line += ", session=<";
    line += quoteForLog(facts.session, 64);
    line += ">";
    return line;
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
