// Policy proxy-suggest (issue 11; docs/login-referrals.md §2): the login is
// proxied to the home server as with `proxy`, and the client's tagged OK to
// its LOGIN / AUTHENTICATE carries the referral (RFC 2221 §4.1, R2221-10).
//
// imap-login (2.3.19.1 and 2.4.1, imap-proxy.c) answers the client when the
// home server's "L OK ..." arrives: client_send_login_reply() writes
// "<tag> OK " + the home server's text, with that server's capabilities
// either as its own [CAPABILITY ...] code or, for a client that asked
// CAPABILITY before logging in (client_ignores_capability_resp_code), as an
// untagged "* CAPABILITY ..." first; a line starting with another code gets
// [CAPABILITY ...] put in place of that code.  So the line handed on is
// "L OK [REFERRAL url] text", and imap-login is set up to announce the
// home server's capabilities untagged (one code per response, R3501-3,
// D-13): proxy_backend_capability = the capabilities to announce,
// client_ignores_capability_resp_code = TRUE.  One write, one tagged reply.
// A failed login never reaches here ("L NO ..."): the client gets what
// `proxy` gives (R2221-15).
#include <cstring>
#include <exception>
#include <string>

#include "dovecot_compat.h"
#include "login_client_context.h"
#include "login_reply.h"
#include "proxied_login_hint.h"

namespace {

constexpr const char kLoginOkPrefix[] = "L OK ";
constexpr size_t kLoginOkPrefixLen = sizeof(kLoginOkPrefix) - 1;

const char* hint(struct client* client, const char* line) {
    if (strncmp(line, kLoginOkPrefix, kLoginOkPrefixLen) != 0) return nullptr;
    const char* marker = dref::passdbField(client, dref::kProxyHintField);
    if (marker == nullptr || strcmp(marker, "y") != 0) return nullptr;
    const dref::LoginPluginConfig* config = dref::referralLoginConfig();
    if (config == nullptr) return nullptr;
    auto* imap = reinterpret_cast<struct imap_client*>(client);

    const dref::BackendLoginOk ok = dref::parseBackendLoginOk(line + kLoginOkPrefixLen);
    // What imap-login would have announced: the code's list, else what it
    // learnt before the login (banner or its own CAPABILITY command).
    const std::string capability =
        ok.hasCapability ? ok.capability : dref::orEmpty(imap->proxy_backend_capability);

    dref::LoginReferralFacts facts;
    if (!dref::passdbReferralFacts(client, dref::passdbReferralFields(client), &facts)) {
        e_error(client->event, "proxied login without the OK referral hint: no usable "
                               "home server in the passdb reply");
        return nullptr;
    }
    // The server the proxy is logged in at: the passdb's host and port,
    // unless 2.4's imap-login followed that server's own referral to
    // another one (login_proxy_redirect_finish); the hint names where the
    // session really is.
    if (client->login_proxy != nullptr) {
        facts.host = dref::viewOf(login_proxy_get_host(client->login_proxy));
        facts.port = login_proxy_get_port(client->login_proxy);
    }
    facts.reason = ok.text;
    dref::LoginReply out;
    dref::composeLoginReferral(facts, config->reply, &out);
    if (!out.referral) {
        // The session is proxied and logged in: keep it, without the hint.
        e_error(dref::replyEvent(client, "proxy", facts.command, out),
                "%s; proxied login without the OK referral hint", out.error.c_str());
        return nullptr;
    }
    const std::string replaced = dref::hintedBackendLoginOk("L ", out.code, out.text);
    dref::noteReferral(client, dref::ReferralKind::ProxyHint, facts.command, facts.user, out);

    // Nothing below throws: imap-login's state changes only together with
    // the line it gets.
    i_free(imap->proxy_backend_capability);
    imap->proxy_backend_capability = capability.empty() ? nullptr : i_strdup(capability.c_str());
    imap->client_ignores_capability_resp_code = true;
    return t_strdup(replaced.c_str());
}

}  // namespace

namespace dref {

const char* proxiedLoginHint(struct client* client, const char* line) noexcept {
    try {
        return hint(client, line);
    } catch (const std::exception& e) {
        e_error(client->event, "OK referral hint failed, proxied without it: %s", e.what());
    } catch (...) {
        e_error(client->event, "OK referral hint failed, proxied without it: unknown exception");
    }
    return nullptr;
}

}  // namespace dref
