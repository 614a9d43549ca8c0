// A home server's login referral to a login the front proxies
// (docs/dovecot-2.4.md, "2.4's proxy and referrals").
//
// Dovecot 2.4's imap-login follows `NO [REFERRAL imap://...]` from the
// backend itself, with the client's password and without asking the auth
// process.  The front may follow it only where a directory answer could
// have sent the user (checkBackendLoginReferral, plugin/core); any other
// referral line is replaced, before imap-login reads it, by a NO that
// imap-login forwards to the client as the final answer to its login
// (a plain "remote refused the login": no reconnect, no redirect, the client
// stays Not Authenticated).  On 2.3 the check does not run
// (compat::proxyFollowsLoginReferrals): 2.3 follows nothing.
//
// The same filter first offers the line to the proxy-suggest hint
// (login_proxy_hint.cpp), on both versions.
#include <cstring>
#include <exception>
#include <string>

#include "backend_referral.h"
#include "dovecot_compat.h"
#include "login_client_context.h"
#include "response_text.h"

namespace {

// imap-login tags its LOGIN / AUTHENTICATE to the backend "L" (imap-proxy.c,
// proxy_write_login(), 2.3 and 2.4); only the reply to it is a login
// referral.
constexpr const char kLoginTagPrefix[] = "L ";
constexpr size_t kLoginTagPrefixLen = sizeof(kLoginTagPrefix) - 1;

const struct client_vfuncs* proxySuper(struct client* client) {
    return &dref::referralLoginContext(client)->module_ctx.super;
}

// The line imap-login gets instead: a NO with a response code that is not
// REFERRAL, UNAVAILABLE or SERVERBUG, which it relays to the client with the
// client's tag and then ends the proxy attempt as an authentication failure
// (no retry: retrying would ask the same home server again).
const char* refusalLine() {
    return t_strconcat(kLoginTagPrefix, "NO [", dref::kBackendReferralRefusedCode, "] ",
                       dref::kBackendReferralRefusedText, nullptr);
}

// Event "referral_proxy_redirect" (category referral) on the proxy's own
// event (user, backend): result = followed | refused, host when one was read.
struct event* redirectEvent(struct client* client, const char* result, const std::string& host) {
    struct event* parent =
        client->login_proxy != nullptr ? login_proxy_get_event(client->login_proxy) : client->event;
    struct event_passthrough* e = event_create_passthrough(parent)
                                      ->add_category(dref::referralEventCategory())
                                      ->set_name("referral_proxy_redirect")
                                      ->add_str("result", result);
    if (!host.empty()) e->add_str("host", host.c_str());
    return e->event();
}

const char* filterBackendLine(struct client* client, const char* line) {
    if (strncmp(line, kLoginTagPrefix, kLoginTagPrefixLen) != 0) return nullptr;
    const dref::LoginPluginConfig* config = dref::referralLoginConfig();
    dref::FrontFacts front;
    front.listenerIp = net_ip2addr(&client->local_ip);
    front.defaultPort = dref::compat::proxyBackendPort(client);
    const dref::BackendReferralCheck check = dref::checkBackendLoginReferral(
        line + kLoginTagPrefixLen, config->settings.decision, front);
    switch (check.verdict) {
        case dref::BackendReferralVerdict::NotReferral:
            return nullptr;
        case dref::BackendReferralVerdict::Follow:
            e_debug(redirectEvent(client, "followed", check.host),
                    "home server referral to %s:%u is allowed, following it",
                    check.host.c_str(), static_cast<unsigned int>(check.port));
            return nullptr;
        case dref::BackendReferralVerdict::Refuse:
            break;
    }
    e_warning(redirectEvent(client, "refused", check.host), "home server referral not followed: %s",
              check.why.empty() ? "out of memory" : check.why.c_str());
    return refusalLine();
}

// Never lets an exception reach imap-login; when the check itself cannot
// run, a login reply that is not a success is refused rather than followed.
const char* guardBackendLine(struct client* client, const char* line) noexcept {
    if (const char* hinted = dref::proxiedLoginHint(client, line)) return hinted;
    if (!dref::compat::proxyFollowsLoginReferrals()) return nullptr;
    try {
        return filterBackendLine(client, line);
    } catch (const std::exception& e) {
        e_error(client->event, "home server login reply check failed: %s", e.what());
    } catch (...) {
        e_error(client->event, "home server login reply check failed: unknown exception");
    }
    if (strncmp(line, kLoginTagPrefix, kLoginTagPrefixLen) != 0 ||
        strncmp(line + kLoginTagPrefixLen, "OK ", 3) == 0)
        return nullptr;
    return refusalLine();
}

}  // namespace

namespace dref {

void installProxyLineFilter(struct client_vfuncs* v) {
    compat::overrideProxyParseLine(v, proxySuper, guardBackendLine);
}

}  // namespace dref
