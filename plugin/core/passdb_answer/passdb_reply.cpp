#include "passdb_reply.h"

#include "process_secrets.h"
#include "proxied_login_hint.h"
#include "response_text.h"

namespace dref {

const char* const kRejectText = "Your mailbox cannot be reached from this server.";

namespace {

std::string targetUser(const Decision& d, const ReplyContext& ctx) {
    return d.targetUser.empty() ? ctx.loginUser : d.targetUser;
}

void addTarget(PassdbReply* r, const Decision& d, const ReplyContext& ctx) {
    r->fields.emplace_back("host", d.target.host);
    if (d.target.port != 0) r->fields.emplace_back("port", std::to_string(d.target.port));
    r->fields.emplace_back("destuser", targetUser(d, ctx));
}

std::string where(const Decision& d) {
    if (d.target.port == 0) return d.target.host;
    return d.target.host + ":" + std::to_string(d.target.port);
}

PassdbReply refused() {
    PassdbReply r;
    r.outcome = PassdbOutcome::Refused;
    return r;
}

// Proxy fields; false when the backend cannot be logged in to.
bool addProxy(PassdbReply* r, const Decision& d, const ReplySettings& login,
              const ReplyContext& ctx) {
    r->fields.emplace_back("proxy", "y");
    addTarget(r, d, ctx);
    // TLS and timeout of the connection to the home server: Dovecot checks
    // the certificate against `host`, the directory's name.
    appendProxyConnectionFields(login.proxyConnection, &r->fields);
    if (proxyLogsIn(ctx.protocol) && (!ctx.plaintextMech || ctx.credentialsLookup)) {
        // Dovecot adds pass=<client's password> only for plaintext
        // mechanisms; the others need a master login on the home server.
        if (login.proxyMasterUser.empty() || login.proxyMasterPassword.empty())
            return false;
        r->fields.emplace_back("master", login.proxyMasterUser);
        r->fields.emplace_back("pass", login.proxyMasterPassword);
    }
    return true;
}

}  // namespace

ReplySettings::ReplySettings(const LoginSettings& login)
    : proxyConnection(login.proxyConnection),
      proxyMasterUser(login.proxyMasterUser),
      proxyMasterPassword(login.proxyMasterPassword),
      referralReason(wireReferralText(login.referralText)) {}

ReplySettings::~ReplySettings() { overwriteString(&proxyMasterPassword); }

PassdbReply buildPassdbReply(const Decision& d, const ReplySettings& settings,
                             const ReplyContext& ctx) {
    PassdbReply r;
    // The most a reply has (proxy, host, port, destuser, ssl/starttls,
    // proxy_timeout, master, pass, referral_hint): no reallocation while
    // they are added, at every login.
    if (d.kind != DecisionKind::Local && d.kind != DecisionKind::TempFail) r.fields.reserve(9);
    switch (d.kind) {
    case DecisionKind::Local:
        return r;
    case DecisionKind::Suggest:
        // A bare `host` (no nologin, no proxy) is a local login; the login
        // plugin answers it with OK [REFERRAL ...] (R2221-10).  During a
        // credentials lookup a failed mechanism would still carry `host`
        // to the login process, which makes it a NO referral: log in here
        // without the hint instead.
        if (ctx.credentialsLookup) return r;
        addTarget(&r, d, ctx);
        r.fields.emplace_back("reason", settings.referralReason);
        return r;
    case DecisionKind::Refer:
        if (ctx.credentialsLookup) {
            if (!addProxy(&r, d, settings, ctx)) return refused();
            return r;
        }
        r.fields.emplace_back("nologin", "y");
        addTarget(&r, d, ctx);
        r.fields.emplace_back("reason", settings.referralReason);
        return r;
    case DecisionKind::Proxy:
        if (!addProxy(&r, d, settings, ctx)) return refused();
        return r;
    case DecisionKind::ProxySuggest:
        // Proxied exactly as Proxy; the marker makes the login plugin turn
        // the home server's OK into OK [REFERRAL ...] (issue 11).  Only a
        // login the home server accepted gets it, so also for a credentials
        // mechanism no referral follows a failed login (R2221-15).
        if (!addProxy(&r, d, settings, ctx)) return refused();
        r.fields.emplace_back(kProxyHintField, "y");
        return r;
    case DecisionKind::TempFail:
        r.outcome = PassdbOutcome::InternalFailure;
        r.noDelay = !ctx.credentialsLookup;
        return r;
    case DecisionKind::Reject:
        if (!proxyLogsIn(ctx.protocol)) {
            r.outcome = PassdbOutcome::InternalFailure;
            return r;
        }
        if (ctx.credentialsLookup) return refused();
        r.fields.emplace_back("nologin", "y");
        r.fields.emplace_back("reason", kRejectText);
        return r;
    }
    return refused();
}

// Follows buildPassdbReply() branch by branch; reply.outcome tells a
// refusal (no proxy_master_user) from the answer it replaced.
std::string passdbReplyLogLine(const Decision& d, const PassdbReply& reply,
                               const ReplySettings& settings, const ReplyContext& ctx) {
    const bool isRefused = reply.outcome == PassdbOutcome::Refused;
    const ProxyConnectionSettings& connection = settings.proxyConnection;
    switch (d.kind) {
    case DecisionKind::Local:
        return "local";
    case DecisionKind::Suggest:
        if (ctx.credentialsLookup)
            return "local (OK referral to " + where(d) + " left out: credentials mechanism)";
        return "suggest (OK referral) to " + where(d);
    case DecisionKind::Refer:
        if (!ctx.credentialsLookup) return "refer to " + where(d);
        if (isRefused)
            return "refused: referral to " + where(d) +
                   " not possible before the mechanism verified the client, "
                   "and no proxy_master_user is set";
        return "proxy to " + where(d) + proxyConnectionNote(connection) +
               " (referral replaced: credentials mechanism)";
    case DecisionKind::Proxy:
    case DecisionKind::ProxySuggest:
        if (isRefused)
            return "refused: proxy to " + where(d) +
                   " needs proxy_master_user for a mechanism without a password";
        if (d.kind == DecisionKind::ProxySuggest) return "proxy to " + where(d) + " with OK referral hint";
        return "proxy to " + where(d) + proxyConnectionNote(connection);
    case DecisionKind::TempFail:
        return "temporary failure";
    case DecisionKind::Reject:
        if (!proxyLogsIn(ctx.protocol))
            return std::string("temporary failure: no usable home server (") +
                   protocolName(ctx.protocol) + " is neither served here nor refused)";
        if (ctx.credentialsLookup) return "refused: no usable home server";
        return "rejected: no usable home server";
    }
    return "refused: unknown decision";
}

}  // namespace dref
