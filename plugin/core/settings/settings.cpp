#include "settings.h"

#include "ascii.h"

#include <climits>
#include <map>

#include "imap_url.h"
#include "mailbox_relay.h"
#include "response_text.h"
#include "settings_values.h"
#include "stored_password.h"

namespace dref {

namespace {

constexpr size_t kMaxTextLength = 200;

using Apply = bool (*)(Settings&, std::string_view, std::string*);

struct KeyDef {
    const char* key;
    bool repeatable;
    Apply apply;
};

bool failWith(std::string* why, std::string message) {
    if (why) *why = std::move(message);
    return false;
}

bool setString(std::string& field, std::string_view v, std::string* why) {
    if (!checkPlainValue(v, why)) return false;
    field = std::string(v);
    return true;
}

bool setNonEmpty(std::string& field, std::string_view v, std::string* why) {
    if (v.empty()) return failWith(why, "must not be empty");
    return setString(field, v, why);
}

bool setAttribute(std::string& field, std::string_view v, std::string* why, bool optional) {
    if (v.empty() && optional) {
        field.clear();
        return true;
    }
    if (!checkAttributeName(v, why)) return false;
    field = std::string(v);
    return true;
}

bool setFilter(std::string& field, std::string_view v, std::string* why) {
    if (!checkFilterTemplate(v, why)) return false;
    field = std::string(v);
    return true;
}

bool setDuration(int& field, std::string_view v, std::string* why, bool allowZero) {
    int ms = 0;
    if (!parseDurationMs(v, &ms))
        return failWith(why, "invalid duration '" + quoteForLog(v, 32) +
                                 "' (use e.g. 250ms, 3s, 2m, 1h; a bare number is seconds)");
    if (ms == 0 && !allowZero) return failWith(why, "must be greater than zero");
    field = ms;
    return true;
}

// R3501-2/R3501-4: a configured text is refused at start-up rather than
// rewritten on the wire.
bool setWireText(std::string& field, std::string_view v, std::string* why) {
    if (!isWireSafeText(v, kMaxTextLength))
        return failWith(why, "must be 1-" + std::to_string(kMaxTextLength) +
                                 " printable US-ASCII characters, not starting with '[' or a space");
    field = std::string(v);
    return true;
}

bool setPolicy(ReferralPolicy& field, std::string_view v, std::string* why) {
    auto p = parseReferralPolicy(v);
    if (!p) return failWith(why, "expected refer, suggest, proxy, proxy-suggest or local");
    field = *p;
    return true;
}

bool setBool(bool& field, std::string_view v, std::string* why) { return parseBoolValue(v, &field, why); }

bool setCount(size_t& field, std::string_view v, std::string* why, size_t min, size_t max) {
    return parseCountValue(v, min, max, &field, why);
}

// Splits "<policy> <rest>"; rest keeps inner spaces (client names have them).
bool splitPolicyRule(std::string_view v, ReferralPolicy* policy, std::string_view* rest,
                     std::string* why) {
    const size_t sp = v.find_first_of(" \t");
    if (sp == std::string_view::npos) return failWith(why, "expected \"<policy> <pattern>\"");
    if (!setPolicy(*policy, v.substr(0, sp), why)) return false;
    *rest = v.substr(sp);
    while (!rest->empty() && (rest->front() == ' ' || rest->front() == '\t')) rest->remove_prefix(1);
    if (rest->empty()) return failWith(why, "expected \"<policy> <pattern>\"");
    return true;
}

// clang-format off
const KeyDef kKeys[] = {
    {"ldap_uris", false, [](Settings& s, std::string_view v, std::string* w) {
        return parseLdapUris(v, &s.directory.uris, w); }},
    {"ldap_bind_dn", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.directory.bindDn, v, w); }},
    {"ldap_bind_password", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.directory.bindPassword, v, w); }},
    {"ldap_sasl_mech", false, [](Settings& s, std::string_view v, std::string* w) {
        if (!v.empty() && !equalsIgnoreCaseAscii(v, "EXTERNAL"))
            return failWith(w, "only EXTERNAL (or empty for a simple bind) is supported");
        s.directory.saslMech = v.empty() ? "" : "EXTERNAL";
        return true; }},
    {"ldap_starttls", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.directory.startTls, v, w); }},
    {"ldap_tls_ca_file", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.directory.tlsCaFile, v, w); }},
    {"ldap_tls_require_cert", false, [](Settings& s, std::string_view v, std::string* w) {
        for (const char* level : {"never", "allow", "try", "demand"}) {
            if (equalsIgnoreCaseAscii(v, level)) {
                s.directory.tlsRequireCert = level;
                return true;
            }
        }
        return failWith(w, "expected never, allow, try or demand"); }},
    {"ldap_connect_timeout", false, [](Settings& s, std::string_view v, std::string* w) {
        return setDuration(s.directory.connectTimeoutMs, v, w, false); }},
    {"ldap_timeout", false, [](Settings& s, std::string_view v, std::string* w) {
        return setDuration(s.directory.timeoutMs, v, w, false); }},
    {"ldap_reconnect_backoff_max", false, [](Settings& s, std::string_view v, std::string* w) {
        return setDuration(s.directory.backoffMaxMs, v, w, false); }},
    {"ldap_chase_referrals", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.directory.chaseReferrals, v, w); }},
    {"user_base", false, [](Settings& s, std::string_view v, std::string* w) {
        return setNonEmpty(s.directory.userBase, v, w); }},
    {"user_scope", false, [](Settings& s, std::string_view v, std::string* w) {
        for (const char* scope : {"base", "one", "sub"}) {
            if (equalsIgnoreCaseAscii(v, scope)) {
                s.directory.userScope = scope;
                return true;
            }
        }
        return failWith(w, "expected base, one or sub"); }},
    {"user_filter", false, [](Settings& s, std::string_view v, std::string* w) {
        return setFilter(s.directory.userFilter, v, w); }},
    {"home_server_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.homeServerAttribute, v, w, true); }},
    {"home_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.directory.homePort, w); }},
    {"home_pop3_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.decision.ports.pop3, w); }},
    {"home_lmtp_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.decision.ports.lmtp, w); }},
    {"home_managesieve_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.decision.ports.managesieve, w); }},
    {"home_submission_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.decision.ports.submission, w); }},
    {"home_doveadm_port", false, [](Settings& s, std::string_view v, std::string* w) {
        // 0: no port field, doveadm connects to its own doveadm_port.
        if (v == "0") {
            s.decision.ports.doveadm = 0;
            return true;
        }
        return parsePortValue(v, &s.decision.ports.doveadm, w); }},
    {"home_url_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.homeUrlAttribute, v, w, true); }},
    {"policy_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.policyAttribute, v, w, true); }},
    {"referral_user_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.referralUserAttribute, v, w, true); }},
    {"password_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.passwordAttribute, v, w, true); }},
    {"password_default_scheme", false, [](Settings& s, std::string_view v, std::string* w) {
        if (!isValidSchemeName(v))
            return failWith(w, "not a scheme name (1-32 of A-Z a-z 0-9 . _ -, e.g. CRYPT, "
                               "SHA512-CRYPT, SSHA, PLAIN)");
        s.directory.passwordDefaultScheme = std::string(v);
        return true; }},
    {"mailbox_shared_base", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.directory.mailboxSharedBase, v, w); }},
    {"mailbox_filter", false, [](Settings& s, std::string_view v, std::string* w) {
        return setFilter(s.directory.mailboxFilter, v, w); }},
    {"mailbox_name_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.mailboxNameAttribute, v, w, false); }},
    {"mailbox_url_attribute", false, [](Settings& s, std::string_view v, std::string* w) {
        return setAttribute(s.directory.mailboxUrlAttribute, v, w, false); }},
    {"mailbox_max_entries", false, [](Settings& s, std::string_view v, std::string* w) {
        return setCount(s.directory.mailboxMaxEntries, v, w, 1, 10000000); }},
    {"cache_ttl", false, [](Settings& s, std::string_view v, std::string* w) {
        return setDuration(s.directory.cacheTtlMs, v, w, true); }},
    {"negative_cache_ttl", false, [](Settings& s, std::string_view v, std::string* w) {
        return setDuration(s.directory.negativeCacheTtlMs, v, w, true); }},
    {"cache_size", false, [](Settings& s, std::string_view v, std::string* w) {
        return setCount(s.directory.cacheSize, v, w, 0, 100000000); }},
    {"cache_max_bytes", false, [](Settings& s, std::string_view v, std::string* w) {
        return parseByteSizeValue(v, size_t(1) << 40, &s.directory.cacheMaxBytes, w); }},
    {"local_names", false, [](Settings& s, std::string_view v, std::string* w) {
        return parseLocalNames(v, &s.decision.localNames, w); }},
    {"allowed_hosts", false, [](Settings& s, std::string_view v, std::string* w) {
        return parseAllowedHosts(v, &s.decision.allowedHosts, w); }},
    {"default_policy", false, [](Settings& s, std::string_view v, std::string* w) {
        return setPolicy(s.decision.defaultPolicy, v, w); }},
    {"client_id_rule", true, [](Settings& s, std::string_view v, std::string* w) {
        PolicyRule rule;
        std::string_view glob;
        if (!splitPolicyRule(v, &rule.policy, &glob, w)) return false;
        if (glob.size() > 256 || !isWireSafeText(glob, 256))
            return failWith(w, "the pattern must be printable US-ASCII, at most 256 characters");
        rule.pattern = std::string(glob);
        s.decision.clientIdRules.push_back(std::move(rule));
        return true; }},
    {"listener_rule", true, [](Settings& s, std::string_view v, std::string* w) {
        ListenerRule rule;
        std::string_view address;
        if (!splitPolicyRule(v, &rule.policy, &address, w)) return false;
        if (!parseListenerAddress(address, &rule.address, &rule.port, w)) return false;
        s.decision.listenerRules.push_back(std::move(rule));
        return true; }},
    {"refer_insecure", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.decision.referInsecure, v, w); }},
    {"insecure_policy", false, [](Settings& s, std::string_view v, std::string* w) {
        ReferralPolicy p;
        if (!setPolicy(p, v, w)) return false;
        if (p != ReferralPolicy::Proxy && p != ReferralPolicy::Local)
            return failWith(w, "expected proxy or local (a referral is what it replaces)");
        s.decision.insecureFallback = p;
        return true; }},
    {"unknown_user_policy", false, [](Settings& s, std::string_view v, std::string* w) {
        if (equalsIgnoreCaseAscii(v, "local")) s.decision.notFoundIsLocal = true;
        else if (equalsIgnoreCaseAscii(v, "reject")) s.decision.notFoundIsLocal = false;
        else return failWith(w, "expected local or reject");
        return true; }},
    {"referral_text", false, [](Settings& s, std::string_view v, std::string* w) {
        return setWireText(s.login.referralText, v, w); }},
    {"auth_in_url", false, [](Settings& s, std::string_view v, std::string* w) {
        if (equalsIgnoreCaseAscii(v, "star")) s.login.authMechanismInUrl = false;
        else if (equalsIgnoreCaseAscii(v, "mechanism")) s.login.authMechanismInUrl = true;
        else return failWith(w, "expected star or mechanism");
        return true; }},
    {"proxy_master_user", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.login.proxyMasterUser, v, w); }},
    {"proxy_master_password", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.login.proxyMasterPassword, v, w); }},
    {"proxy_tls", false, [](Settings& s, std::string_view v, std::string* w) {
        if (!parseProxyTls(v, &s.login.proxyConnection.tls))
            return failWith(w, "expected none, tls or starttls");
        return true; }},
    {"proxy_tls_verify", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.login.proxyConnection.verifyCertificate, v, w); }},
    {"proxy_timeout", false, [](Settings& s, std::string_view v, std::string* w) {
        return parseProxyTimeout(v, &s.login.proxyConnection.timeoutSeconds, w); }},
    {"drain_host", false, [](Settings& s, std::string_view v, std::string* w) {
        if (!v.empty() && !isValidHostName(v))
            return failWith(w, "'" + quoteForLog(v, 64) +
                                   "' is not a valid host name or IPv4 address (no IPv6: D-4)");
        s.login.drainHost = std::string(v);
        return true; }},
    {"drain_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.login.drainPort, w); }},
    {"drain_text", false, [](Settings& s, std::string_view v, std::string* w) {
        return setWireText(s.login.drainText, v, w); }},
    {"mailbox_referrals", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.enabled, v, w); }},
    {"mailbox_referral_mode", false, [](Settings& s, std::string_view v, std::string* w) {
        if (equalsIgnoreCaseAscii(v, "always")) s.mailbox.mode = MailboxReferralMode::Always;
        else if (equalsIgnoreCaseAscii(v, "opt-in")) s.mailbox.mode = MailboxReferralMode::OptIn;
        else return failWith(w, "expected always or opt-in");
        return true; }},
    {"mailbox_referral_status", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.referStatus, v, w); }},
    {"mailbox_referral_rename", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.referRename, v, w); }},
    {"mailbox_referral_copy", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.referCopy, v, w); }},
    {"mailbox_referral_create", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.referCreate, v, w); }},
    {"mailbox_referral_text", false, [](Settings& s, std::string_view v, std::string* w) {
        return setWireText(s.mailbox.referralText, v, w); }},
    {"mailbox_cache_dir", false, [](Settings& s, std::string_view v, std::string* w) {
        if (!v.empty() && v.front() != '/') return failWith(w, "must be an absolute path (or empty)");
        if (v.size() > 1024) return failWith(w, "longer than 1024 characters");
        return setString(s.mailbox.cacheDir, v, w); }},
    {"mailbox_directory_service", false, [](Settings& s, std::string_view v, std::string* w) {
        // sockaddr_un holds 107 octets; base_dir (about 20) comes before a relative name.
        if (v.size() > 80) return failWith(w, "longer than 80 characters");
        return setString(s.mailbox.directoryService, v, w); }},
    {"mailbox_prefetch_at_login", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.prefetchAtLogin, v, w); }},
    {"mailbox_relay", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.relay, v, w); }},
    {"mailbox_relay_master_user", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.mailbox.relayMasterUser, v, w); }},
    {"mailbox_relay_master_password", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.mailbox.relayMasterPassword, v, w); }},
    {"mailbox_relay_tls", false, [](Settings& s, std::string_view v, std::string* w) {
        if (!parseProxyTls(v, &s.mailbox.relayConnection.tls))
            return failWith(w, "expected none, tls or starttls");
        return true; }},
    {"mailbox_relay_tls_verify", false, [](Settings& s, std::string_view v, std::string* w) {
        return setBool(s.mailbox.relayConnection.verifyCertificate, v, w); }},
    {"mailbox_relay_tls_ca_file", false, [](Settings& s, std::string_view v, std::string* w) {
        return setString(s.mailbox.relayConnection.caFile, v, w); }},
    {"mailbox_relay_tls_port", false, [](Settings& s, std::string_view v, std::string* w) {
        return parsePortValue(v, &s.mailbox.relayConnection.tlsPort, w); }},
    {"mailbox_relay_timeout", false, [](Settings& s, std::string_view v, std::string* w) {
        return parseRelayTimeout(v, &s.mailbox.relayConnection.timeoutSeconds, w); }},
    {"mailbox_relay_max_mailboxes", false, [](Settings& s, std::string_view v, std::string* w) {
        return setCount(s.mailbox.relayConnection.maxMailboxes, v, w, 1, 1000); }},
};
// clang-format on

const KeyDef* findKey(std::string_view key) {
    for (const auto& def : kKeys) {
        if (key == def.key) return &def;
    }
    return nullptr;
}

bool fileError(std::string* error, const std::string& path, std::string_view key,
               const std::string& message) {
    if (error) *error = path + ": " + std::string(key) + ": " + message;
    return false;
}

bool load(const SettingsFile& file, Settings* out, std::string* error) {
    Settings s;
    s.path = file.path;
    std::map<std::string, int, std::less<>> seen;  // key -> first line
    for (const auto& line : file.lines) {
        const std::string prefix = file.path + ":" + std::to_string(line.line) + ": ";
        const KeyDef* def = findKey(line.key);
        if (!def) {
            if (error) *error = prefix + quoteForLog(line.key, 64) + ": unknown setting";
            return false;
        }
        auto [it, inserted] = seen.emplace(line.key, line.line);
        if (!inserted && !def->repeatable) {
            if (error)
                *error = prefix + line.key + ": duplicate setting (first set at line " +
                         std::to_string(it->second) + ")";
            return false;
        }
        std::string why;
        if (!def->apply(s, line.value, &why)) {
            if (error) *error = prefix + line.key + ": " + why;
            return false;
        }
    }
    for (const char* required : {"ldap_uris", "user_base"}) {
        if (seen.find(std::string_view(required)) == seen.end())
            return fileError(error, file.path, required, "required setting missing");
    }
    if (s.directory.homeServerAttribute.empty() && s.directory.homeUrlAttribute.empty())
        return fileError(error, file.path, "home_server_attribute",
                         "home_server_attribute and home_url_attribute are both empty");
    if (!s.directory.bindPassword.empty() && s.directory.bindDn.empty() &&
        s.directory.saslMech.empty())
        return fileError(error, file.path, "ldap_bind_password", "set without ldap_bind_dn");
    if (!s.login.proxyMasterUser.empty() && s.login.proxyMasterPassword.empty())
        return fileError(error, file.path, "proxy_master_password",
                         "required when proxy_master_user is set");
    std::string relayKey, relayError;
    if (!checkRelaySettings(s, &relayKey, &relayError))
        return fileError(error, file.path, relayKey, relayError);
    *out = std::move(s);
    return true;
}

}  // namespace

bool parseDurationMs(std::string_view text, int* ms) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 10) return false;
    long long value = 0;
    for (size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
    std::string_view unit = text.substr(digits);
    long long factor;
    if (unit.empty() || equalsIgnoreCaseAscii(unit, "s")) factor = 1000;
    else if (equalsIgnoreCaseAscii(unit, "ms")) factor = 1;
    else if (equalsIgnoreCaseAscii(unit, "m")) factor = 60 * 1000;
    else if (equalsIgnoreCaseAscii(unit, "h")) factor = 3600 * 1000;
    else return false;
    if (value > INT_MAX / factor) return false;
    *ms = static_cast<int>(value * factor);
    return true;
}

bool loadSettings(const SettingsFile& file, Settings* out, std::string* error) {
    try {
        return load(file, out, error);
    } catch (...) {
        if (error) *error = file.path + ": out of memory";
        return false;
    }
}

bool loadSettingsFromPath(const std::string& path, Settings* out, std::string* error) {
    SettingsFile file;
    if (!readSettingsFile(path, &file, error)) return false;
    return loadSettings(file, out, error);
}

std::vector<std::string> settingsKeys() {
    std::vector<std::string> keys;
    for (const auto& def : kKeys) keys.emplace_back(def.key);
    return keys;
}

}  // namespace dref
