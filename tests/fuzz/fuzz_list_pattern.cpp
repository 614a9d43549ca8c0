// libFuzzer target: RLIST/RLSUB pattern matching (plugin/core/mailbox_listing/list_pattern.h)
// and the remote mailbox table (remote_mailbox_table.h) it walks.
// Input: separator octet, then fields separated by 0xFF: reference,
// pattern, then mailbox names (directory form, '/'-separated; a leading
// "!" makes the entry's only location this server, so it must stay local).
// Invariants (differential, against obviously-correct slow versions):
//   - ListPattern::matches == a memoised recursive matcher of RFC 3501
//     §6.3.8 with INBOX case-insensitive as the first level;
//   - forEachMatch visits exactly the entries matching, in vname order;
//   - find() returns the longest entry equal to or above the name, with the
//     right inferior; hasRemoteInferiors agrees with a scan;
//   - referral URLs built for a match are referral-safe.
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "list_pattern.h"
#include "remote_mailbox_table.h"

namespace {

using namespace dref;

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

size_t inboxLength(std::string_view name, char sep) {
    size_t level = name.find(sep);
    std::string_view first = name.substr(0, level);
    if (first.size() != 5) return 0;
    for (size_t i = 0; i < 5; ++i)
        if (upper(first[i]) != "INBOX"[i]) return 0;
    return 5;
}

// Straight from the RFC's wording: '*' any run, '%' any run without the separator.
class SlowMatcher {
public:
    SlowMatcher(std::string_view pattern, std::string_view name, char sep)
        : p_(pattern), n_(name), sep_(sep), inbox_(inboxLength(name, sep)),
          memo_((pattern.size() + 1) * (name.size() + 1), -1) {}
    bool run() { return at(0, 0); }

private:
    bool at(size_t pi, size_t ni) {
        signed char& m = memo_[pi * (n_.size() + 1) + ni];
        if (m >= 0) return m != 0;
        bool r;
        if (pi == p_.size()) {
            r = ni == n_.size();
        } else if (p_[pi] == '*') {
            r = at(pi + 1, ni) || (ni < n_.size() && at(pi, ni + 1));
        } else if (p_[pi] == '%') {
            r = at(pi + 1, ni) || (ni < n_.size() && n_[ni] != sep_ && at(pi, ni + 1));
        } else {
            bool eq = ni < n_.size() &&
                      (ni < inbox_ ? upper(p_[pi]) == upper(n_[ni]) : p_[pi] == n_[ni]);
            r = eq && at(pi + 1, ni + 1);
        }
        m = r ? 1 : 0;
        return r;
    }
    std::string_view p_, n_;
    char sep_;
    size_t inbox_;
    std::vector<signed char> memo_;
};

bool slowMatch(std::string_view pattern, std::string_view name, char sep) {
    return SlowMatcher(pattern, name, sep).run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Bounded so the quadratic slow matcher keeps the run fast.
    if (size < 1 || size > 512) return 0;
    const char sep = static_cast<char>(data[0]);
    // Dovecot separators are punctuation ('/', '.'); with a letter of INBOX
    // as separator "the INBOX level" has no sensible meaning, so skip those.
    if (sep == '\0' || sep == '*' || sep == '%' || std::isalnum(static_cast<unsigned char>(sep)))
        return 0;
    auto f = fuzz::splitFields(data + 1, size - 1);
    f.resize(std::max<size_t>(f.size(), 2));
    const ListPattern pattern(f[0], f[1], sep);
    DREF_FUZZ_CHECK(pattern.joined() == f[0] + f[1], pattern.joined());

    std::vector<RemoteMailbox> mailboxes;
    std::vector<std::string> names;  // vname-form queries
    if (f.size() > 14) f.resize(14);  // 12 names are plenty for the table's invariants
    for (size_t i = 2; i < f.size(); ++i) {
        RemoteMailbox m;
        bool local = !f[i].empty() && f[i][0] == '!';
        m.name = local ? f[i].substr(1) : f[i];
        ImapUrlParts loc;
        loc.host = local ? "front.example.test" : "home" + std::to_string(i % 3) + ".example.test";
        m.locations.push_back(loc);
        m.dn = "cn=" + std::to_string(i);
        m.personal = (i % 2) != 0;
        mailboxes.push_back(m);
        std::string q = m.name;
        for (char& c : q)
            if (c == '/') c = sep;
        names.push_back(q);
    }
    std::vector<std::string> warnings;
    auto table = RemoteMailboxTable::build(mailboxes, sep, {"front.example.test"}, {}, &warnings);
    for (const auto& w : warnings) DREF_FUZZ_CHECK(fuzz::isLogSafe(w), w);

    // Matcher vs the slow one, on queries and on every table entry.
    for (const auto& n : names)
        DREF_FUZZ_CHECK(pattern.matches(n) == slowMatch(pattern.joined(), n, sep), n);
    std::vector<size_t> expected, visited;
    for (const RemoteMailboxEntry& e : table.entries()) {
        const std::string vname(e.vname());
        DREF_FUZZ_CHECK(vname == normalizeInboxPrefix(vname, sep), vname);
        bool m = slowMatch(pattern.joined(), vname, sep);
        DREF_FUZZ_CHECK(pattern.matches(vname) == m, vname);
        if (m) expected.push_back(e.index());
    }
    table.forEachMatch(pattern, [&](const RemoteMailboxEntry& e) { visited.push_back(e.index()); });
    DREF_FUZZ_CHECK(visited == expected, pattern.joined());

    // find / hasRemoteInferiors vs scans of the entries.
    for (std::string q : names) {
        for (int variant = 0; variant < 2; ++variant) {
            if (variant == 1) q += std::string(1, sep) + "x";
            const std::string key = normalizeInboxPrefix(q, sep);
            RemoteMailboxEntry best;
            for (const RemoteMailboxEntry& e : table.entries()) {
                const std::string_view v = e.vname();
                bool covers = !v.empty() && key.compare(0, v.size(), v) == 0 &&
                              (key.size() == v.size() || key[v.size()] == sep);
                if (covers && (!best.valid() || v.size() > best.vname().size())) best = e;
            }
            auto match = table.find(q);
            DREF_FUZZ_CHECK((match.has_value() && !key.empty()) == best.valid(), q);
            if (match) {
                DREF_FUZZ_CHECK(match->entry == best, q);
                std::string whole(best.vname());
                if (!match->inferior.empty()) whole += std::string(1, sep) + match->inferior;
                // "a/" under entry "a" has an empty inferior (a trailing separator).
                DREF_FUZZ_CHECK(whole == key || whole + sep == key, q);
                std::vector<std::string> skipped;
                for (const auto& url : buildReferralUrls(*match, "user@example.test", &skipped))
                    DREF_FUZZ_CHECK(fuzz::isReferralUrlSafe(url), url);
            }
            bool inferiors = false;
            for (const RemoteMailboxEntry& e : table.entries()) {
                const std::string_view v = e.vname();
                inferiors |= v.size() > key.size() + 1 && v.compare(0, key.size(), key) == 0 &&
                             v[key.size()] == sep;
            }
            DREF_FUZZ_CHECK(table.hasRemoteInferiors(q) == inferiors, q);
        }
    }
    return 0;
}
