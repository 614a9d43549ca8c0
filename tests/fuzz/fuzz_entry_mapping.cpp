// libFuzzer target: directory entry mapping (ldap/directory/entry_mapping.h),
// the gate every directory value passes before it can reach the wire.
// Input: one options octet, then entries separated by 0xFE; an entry is
// fields separated by 0xFF: the DN, then "attribute=value" (attribute names
// lower-cased as the LDAP client delivers them; repeated names add values).
// Options: bit 0 personal, bit 1 referral_user_attribute = employeeNumber,
// bit 2 no home_url_attribute, bit 3 no home_server_attribute, bit 4 no
// policy_attribute, bits 5-7 home_port.
// Invariants: the status follows the entry count; a mapped home host is a
// valid host name with a non-zero port; referral user and mailbox names are
// valid UTF-8 without controls; every location has a valid host; every
// warning is one log-safe line; the remote mailbox table built from the
// result only yields referral-safe URLs.
#include <cstdint>
#include <string>
#include <vector>

#include "entry_mapping.h"
#include "fuzz_support.h"
#include "mutf7.h"
#include "referral_decision.h"
#include "remote_mailbox_table.h"

namespace {

using namespace dref;

std::vector<ldap::Entry> parseEntries(const uint8_t* data, size_t size) {
    std::vector<ldap::Entry> entries;
    for (const std::string& chunk : fuzz::splitFields(data, size, '\xfe')) {
        auto fields = fuzz::splitFields(reinterpret_cast<const uint8_t*>(chunk.data()),
                                        chunk.size());
        ldap::Entry e;
        e.dn = fields[0];
        for (size_t i = 1; i < fields.size(); ++i) {
            size_t eq = fields[i].find('=');
            std::string name = fields[i].substr(0, eq);
            for (char& c : name)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            e.attributes[name].push_back(eq == std::string::npos ? std::string()
                                                                 : fields[i].substr(eq + 1));
        }
        entries.push_back(std::move(e));
    }
    return entries;
}

bool hasControl(const std::string& s) {
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return true;
        if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f)
            return true;
    }
    return false;
}

void checkWarnings(const std::vector<std::string>& warnings) {
    for (const auto& w : warnings) DREF_FUZZ_CHECK(fuzz::isLogSafe(w), w);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const uint8_t options = data[0];
    static const uint16_t kPorts[8] = {143, 993, 1, 65535, 144, 143, 1143, 143};
    DirectorySettings s;
    s.referralUserAttribute = (options & 2) ? "employeeNumber" : "";
    if (options & 4) s.homeUrlAttribute.clear();
    if (options & 8) s.homeServerAttribute.clear();
    if (options & 16) s.policyAttribute.clear();
    s.homePort = kPorts[options >> 5];
    const bool personal = (options & 1) != 0;
    const auto entries = parseEntries(data + 1, size - 1);

    UserRecord record;
    std::vector<std::string> warnings;
    auto status = mapUserEntries(entries, s, &record, &warnings);
    checkWarnings(warnings);
    if (entries.empty()) DREF_FUZZ_CHECK(status == UserMappingStatus::NotFound, "");
    if (entries.size() > 1) {
        DREF_FUZZ_CHECK(status == UserMappingStatus::Ambiguous, "");
        DREF_FUZZ_CHECK(!record.home, record.home->host);
    }
    if (entries.size() == 1) DREF_FUZZ_CHECK(status == UserMappingStatus::Found, "");
    if (record.home) {
        DREF_FUZZ_CHECK(isValidHostName(record.home->host), record.home->host);
        DREF_FUZZ_CHECK(record.home->port != 0, record.home->host);
    }
    DREF_FUZZ_CHECK(isValidUtf8(record.referralUser) && !hasControl(record.referralUser),
                    record.referralUser);
    DREF_FUZZ_CHECK(fuzz::isLogSafe(record.homeError), record.homeError);

    std::vector<RemoteMailbox> mailboxes;
    warnings.clear();
    mapMailboxEntries(entries, personal, s, &mailboxes, &warnings);
    checkWarnings(warnings);
    DREF_FUZZ_CHECK(mailboxes.size() <= entries.size(), "");
    for (const RemoteMailbox& m : mailboxes) {
        DREF_FUZZ_CHECK(!m.name.empty() && m.name.size() <= kMaxMailboxNameBytes, m.name);
        DREF_FUZZ_CHECK(isValidUtf8(m.name) && !hasControl(m.name), m.name);
        DREF_FUZZ_CHECK(m.personal == personal, m.name);
        DREF_FUZZ_CHECK(!m.locations.empty(), m.name);
        for (const ImapUrlParts& loc : m.locations) {
            DREF_FUZZ_CHECK(isValidHostName(loc.host) && loc.port != 0, loc.host);
            if (loc.mailbox)
                DREF_FUZZ_CHECK(isValidUtf8(*loc.mailbox) && !hasControl(*loc.mailbox),
                                *loc.mailbox);
        }
    }

    // What the imap plugin does with the answer: table, lookups, referrals.
    warnings.clear();
    // Inputs of odd length run with an allow-list (REQUIREMENTS §2.6 item 3): no
    // location outside it may survive the build.
    std::vector<std::string> allowed;
    if (size & 1) allowed = {"home?.example.test", "*.Example.ORG", "192.0.2.*"};
    auto table = RemoteMailboxTable::build(mailboxes, (options & 1) ? '.' : '/',
                                           {"home1.example.test"}, allowed, &warnings);
    checkWarnings(warnings);
    for (const RemoteMailboxEntry& e : table.entries()) {
        for (size_t i = 0; i < e.locationCount(); ++i) {
            if (!isAllowedTarget(e.location(i).host, allowed)) abort();
        }
    }
    for (const RemoteMailboxEntry& e : table.entries()) {
        // "\x01" cannot be part of an entry's name: the match is e itself.
        const std::string vname(e.vname());
        auto match = table.find(vname + table.separator() + "\x01");
        DREF_FUZZ_CHECK(match && match->entry == e && match->inferior == "\x01", vname);
        std::vector<std::string> skipped;
        for (const std::string& url : buildReferralUrls(*match, "fuzz.user", &skipped))
            DREF_FUZZ_CHECK(fuzz::isReferralUrlSafe(url), url);
        checkWarnings(skipped);
    }
    return 0;
}
