#pragma once
// The protocol of an authentication request, from Dovecot's service name,
// and what the referral decision may do with it (docs/protocols.md).
// Only IMAP has login referrals (RFC 2221); every other protocol that opens
// a session on the user's mailbox is proxied to the home server instead.
#include <cstdint>
#include <string_view>

namespace dref {

enum class Protocol {
    Imap,         // "imap": refer, suggest, proxy or local as the policy says
    Pop3,         // "pop3": no referral in POP3 (RFC 1939/2449)
    Lmtp,         // "lmtp": lmtp_proxy's passdb lookup, no password
    ManageSieve,  // "sieve" (Pigeonhole's service name) or "managesieve"
    Submission,   // "submission": no referral in SMTP submission
    Doveadm,      // "doveadm": doveadm's proxy lookup, no password
    Other,        // anything else (e.g. Postfix SASL "smtp"): authentication only
};

// Dovecot's service (2.3) / protocol (2.4) name, ASCII case-insensitive;
// unknown or empty names are Other.
Protocol protocolFromService(std::string_view service);

// "imap", "pop3", "lmtp", "managesieve", "submission", "doveadm", "other".
const char* protocolName(Protocol p);

// True when the protocol's proxy logs in to the home server as the user
// (IMAP, POP3, ManageSieve, submission): a mechanism without a plaintext
// password then needs a master user.  LMTP and doveadm connect without a
// user login (LMTP names the recipient, doveadm uses doveadm_password).
bool proxyLogsIn(Protocol p);

// The home server's port for each protocol other than IMAP (IMAP's is the
// directory URL's port or home_port).  0 = no port field: the client side
// uses its own default (doveadm: its doveadm_port setting).
struct ProtocolPorts {
    uint16_t pop3 = 110;         // home_pop3_port
    uint16_t lmtp = 24;          // home_lmtp_port
    uint16_t managesieve = 4190; // home_managesieve_port (RFC 5804 §1.8)
    uint16_t submission = 587;   // home_submission_port (RFC 6409)
    uint16_t doveadm = 0;        // home_doveadm_port (no standard port)
};

// The port for `p` (not IMAP, not Other: those return 0).
uint16_t protocolPort(const ProtocolPorts& ports, Protocol p);

}  // namespace dref
