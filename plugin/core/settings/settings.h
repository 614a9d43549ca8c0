#pragma once
// Typed settings of dovecot-referral: every key of the settings file, with
// its default.  The file is documented key by key in
// conf.d/dovecot-referral.conf.ext; keep the two in step.
#include <cstdint>
#include <string>
#include <vector>

#include "proxy_connection.h"
#include "referral_decision.h"
#include "relay_connection.h"
#include "settings_file.h"

namespace dref {

struct DirectorySettings {
    // ldap_uris: space- (or comma-) separated ldap://, ldaps://, ldapi://
    // URIs, tried in order (failover).  Required.
    std::vector<std::string> uris;
    std::string bindDn;            // ldap_bind_dn; empty = anonymous (or SASL)
    std::string bindPassword;      // ldap_bind_password (never logged)
    std::string saslMech;          // ldap_sasl_mech: "" or "EXTERNAL" (ldapi://)
    bool startTls = false;         // ldap_starttls = yes: StartTLS required on ldap://
    std::string tlsCaFile;         // ldap_tls_ca_file
    std::string tlsRequireCert = "demand";  // ldap_tls_require_cert: never|allow|try|demand
    int connectTimeoutMs = 3000;   // ldap_connect_timeout (duration: 500ms, 3s, 3)
    int timeoutMs = 2000;          // ldap_timeout: per search; beyond it -> temporary failure
    int backoffMaxMs = 30000;      // ldap_reconnect_backoff_max
    bool chaseReferrals = false;   // ldap_chase_referrals (D-20: off)

    std::string userBase;          // user_base.  Required.
    std::string userScope = "sub"; // user_scope: base|one|sub
    // user_filter: %u = login name, %n = local part, %d = domain; every
    // substituted value is RFC 4515-escaped.
    std::string userFilter = "(&(objectClass=inetLocalMailRecipient)(|(uid=%u)(mail=%u)))";
    std::string homeServerAttribute = "mailHost";       // home_server_attribute
    // home_port: IMAP port for a bare mailHost.  The other protocols' ports
    // (home_pop3_port, home_lmtp_port, home_managesieve_port,
    // home_submission_port, home_doveadm_port) are in DecisionSettings::ports.
    uint16_t homePort = 143;
    // home_url_attribute / policy_attribute / home_server_attribute: empty
    // disables the attribute (home_server_attribute and home_url_attribute
    // may not both be empty).
    std::string homeUrlAttribute = "imapHomeServerURL"; // home_url_attribute
    std::string policyAttribute = "imapReferralPolicy"; // policy_attribute
    std::string referralUserAttribute;                  // referral_user_attribute (optional)
    // password_attribute: password mode (stored_password.h), the referral
    // passdb checks the login password against this attribute of the user's
    // entry.  Empty (default): chain mode, an earlier passdb checks it.
    std::string passwordAttribute;
    // password_default_scheme: scheme of a value without a {SCHEME} prefix
    // (Dovecot's ldap passdb default: CRYPT).
    std::string passwordDefaultScheme = "CRYPT";

    std::string mailboxSharedBase;  // mailbox_shared_base: shared remote mailboxes (optional)
    std::string mailboxFilter = "(objectClass=imapRemoteMailbox)";  // mailbox_filter
    std::string mailboxNameAttribute = "imapMailboxName";  // mailbox_name_attribute
    std::string mailboxUrlAttribute = "imapMailboxURL";    // mailbox_url_attribute
    size_t mailboxMaxEntries = 100000;                     // mailbox_max_entries

    int cacheTtlMs = 60000;          // cache_ttl
    int negativeCacheTtlMs = 10000;  // negative_cache_ttl ("not found" answers)
    size_t cacheSize = 100000;       // cache_size (entries)
    // cache_max_bytes: what the referral-directory service's cache of
    // encoded answers may hold (docs/directory-service.md §2).
    size_t cacheMaxBytes = size_t(64) << 20;
};

struct LoginSettings {
    // referral_text: the human text after "]" of a login referral.
    // Texts (referral_text, drain_text, mailbox_referral_text) must pass
    // isWireSafeText(text, 200): printable US-ASCII, no leading '[' or space.
    std::string referralText = "Your mailbox is on another server.";
    // auth_in_url: "star" (default, D-3) writes ;AUTH=* for LOGIN and
    // AUTHENTICATE; "mechanism" writes the AUTHENTICATE mechanism name.
    bool authMechanismInUrl = false;
    std::string proxyMasterUser;      // proxy_master_user: for mechanisms without a password
    std::string proxyMasterPassword;  // proxy_master_password (never logged); required with the user
    // proxy_tls / proxy_tls_verify / proxy_timeout: the proxy's connection to
    // the home server, for every protocol (proxy_connection.h).
    ProxyConnectionSettings proxyConnection;
    // drain_host / drain_port / drain_text: when drain_host is set, every new
    // connection is greeted with * BYE [REFERRAL imap://;AUTH=*@host/] text.
    // drain_host is checked with isValidHostName (DNS name or IPv4, no IPv6).
    std::string drainHost;
    uint16_t drainPort = 143;
    std::string drainText = "Server not accepting connections.";
};

enum class MailboxReferralMode { Always, OptIn };

struct MailboxSettings {
    bool enabled = true;                 // mailbox_referrals
    MailboxReferralMode mode = MailboxReferralMode::Always;  // mailbox_referral_mode: always|opt-in (D-8)
    bool referStatus = false;            // mailbox_referral_status (D-9)
    bool referRename = false;            // mailbox_referral_rename (D-6)
    bool referCopy = false;              // mailbox_referral_copy (R2193-26)
    bool referCreate = true;             // mailbox_referral_create (R2193-21)
    std::string referralText = "Remote mailbox.";  // mailbox_referral_text
    // mailbox_cache_dir: absolute path of a directory where the imap plugin
    // keeps each user's last directory answer (one file per user, mode 0600),
    // so that the next session of the user within cache_ttl needs no LDAP
    // search.  Empty (default) = no file cache.
    std::string cacheDir;
    // mailbox_directory_service: the referral-directory service's UNIX
    // socket (relative: below Dovecot's base_dir).  Empty: every imap
    // process asks LDAP itself.
    std::string directoryService = "referral-directory";
    // mailbox_prefetch_at_login: the referral passdb (auth process) tells
    // the service to start a user's remote mailbox lookup as soon as it has
    // decided that the user, whose password was checked, is served here
    // (docs/directory-service.md §6).  Only with the service and without
    // mailbox_cache_dir; no: the imap process asks alone, as before.
    bool prefetchAtLogin = true;
    // mailbox_relay (issue 12, docs/mailbox-relay.md): a session that is not
    // sent mailbox referrals (opt-in mode, the client did not opt in) reaches
    // its remote mailboxes through this server, which logs in to the owning
    // server as mailbox_relay_master_user on behalf of the user.
    bool relay = false;
    std::string relayMasterUser;      // mailbox_relay_master_user (required with relay)
    std::string relayMasterPassword;  // mailbox_relay_master_password (never logged)
    // mailbox_relay_tls, _tls_verify, _tls_ca_file, _tls_port, _timeout,
    // _max_mailboxes: the relay's connections (relay_connection.h).
    RelayConnectionSettings relayConnection;
};

struct Settings {
    std::string path;
    DirectorySettings directory;
    // Keys for DecisionSettings (referral_decision.h):
    //   local_names = <host|host:port|IPv4|IPv6|[IPv6]:port> ... (spaces or commas)
    //   allowed_hosts = <glob> ...        (spaces or commas; empty = any host)
    //   default_policy = refer|suggest|proxy|proxy-suggest|local  (default proxy-suggest)
    //   client_id_rule = <policy> <glob>     repeatable, glob = rest of line
    //   listener_rule = <policy> <ip|*>[:port]  repeatable ([IPv6]:port)
    //   refer_insecure = yes|no                              (default yes)
    //   insecure_policy = proxy|local   (default proxy; it replaces a referral,
    //                                    so none of the referring policies)
    //   unknown_user_policy = local|reject -> notFoundIsLocal (default local)
    //   home_pop3_port 110, home_lmtp_port 24, home_managesieve_port 4190,
    //   home_submission_port 587, home_doveadm_port 0 (0 = doveadm's own
    //   doveadm_port) -> ports
    DecisionSettings decision;
    LoginSettings login;
    MailboxSettings mailbox;
};

// Applies every line of `file` over the defaults (a fresh Settings; *out is
// only written on success).  Keys are case-sensitive.  Unknown keys, duplicate
// single-valued keys, bad values and missing required keys (ldap_uris,
// user_base) are errors: "<file>:<line>: <key>: <message>".
// Repeatable keys: client_id_rule = <policy> <glob>, listener_rule =
// <policy> <ip|*>[:port].
bool loadSettings(const SettingsFile& file, Settings* out, std::string* error);

// readSettingsFile + loadSettings.
bool loadSettingsFromPath(const std::string& path, Settings* out, std::string* error);

// "250ms", "3s", "2m", "1h", or a bare number of seconds; at most INT_MAX ms.
bool parseDurationMs(std::string_view text, int* ms);

// Every key loadSettings knows, in the order of the table above (the sample
// file test uses it to keep conf.d/dovecot-referral.conf.ext complete).
std::vector<std::string> settingsKeys();

}  // namespace dref
