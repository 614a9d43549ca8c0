// The imap plugin's remote mailbox table (RFC 2193): subtree cover, INBOX
// case, separators, conflicts, self-referral guard, 100k entries, URLs.
#include "remote_mailbox_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using dref::ImapUrlParts;
using dref::ListPattern;
using dref::RemoteMailbox;
using dref::RemoteMailboxTable;

namespace {

ImapUrlParts loc(const std::string& host, uint16_t port = 143,
                 std::optional<std::string> mailbox = std::nullopt, const std::string& user = "") {
    ImapUrlParts p;
    p.host = host;
    p.port = port;
    p.mailbox = std::move(mailbox);
    p.user = user;
    return p;
}

RemoteMailbox mb(const std::string& name, std::vector<ImapUrlParts> locations,
                 const std::string& dn = "", bool personal = false) {
    RemoteMailbox m;
    m.name = name;
    m.locations = std::move(locations);
    m.dn = dn.empty() ? "cn=" + name + ",ou=mailboxes,dc=example,dc=test" : dn;
    m.personal = personal;
    return m;
}

RemoteMailboxTable build(const std::vector<RemoteMailbox>& in, char sep = '/',
                         std::vector<std::string>* warnings = nullptr,
                         const std::vector<std::string>& local = {"home1.example.test"}) {
    std::vector<std::string> w;
    return RemoteMailboxTable::build(in, sep, local, {}, warnings ? warnings : &w);
}

}  // namespace

// Item 2: an entry covers the mailbox and its inferiors.
TEST(RemoteMailboxTableTest, EntryCoversItsSubtree) {
    auto t = build({mb("Shared/Projects", {loc("home2.example.test")})});
    auto self = t.find("Shared/Projects");
    ASSERT_TRUE(self);
    EXPECT_EQ(self->entry.vname(), "Shared/Projects");
    EXPECT_EQ(self->inferior, "");
    auto deep = t.find("Shared/Projects/2026/Q1");
    ASSERT_TRUE(deep);
    EXPECT_EQ(deep->inferior, "2026/Q1");
    EXPECT_FALSE(t.find("Shared"));                 // the parent is not remote
    EXPECT_FALSE(t.find("Shared/ProjectsX"));       // not a hierarchy boundary
    EXPECT_FALSE(t.find("Shared/Project"));
    EXPECT_FALSE(t.find("Other/Shared/Projects"));
    EXPECT_TRUE(t.hasRemoteInferiors("Shared"));
    EXPECT_FALSE(t.hasRemoteInferiors("Shared/Projects"));
    EXPECT_FALSE(t.hasRemoteInferiors("Shar"));
}

TEST(RemoteMailboxTableTest, LongestEntryWinsWhenEntriesNest) {
    auto t = build({mb("Shared", {loc("home2.example.test")}),
                    mb("Shared/Archive", {loc("home3.example.test")})});
    EXPECT_EQ(t.find("Shared/Archive/2020")->entry.vname(), "Shared/Archive");
    EXPECT_EQ(t.find("Shared/Projects")->entry.vname(), "Shared");
    EXPECT_EQ(t.find("Shared/Projects")->inferior, "Projects");
}

// RFC 3501 §5.1: INBOX (and INBOX/...) is case-insensitive.
TEST(RemoteMailboxTableTest, InboxIsCaseInsensitive) {
    auto t = build({mb("inbox/Remote", {loc("home2.example.test")})});
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t.entries()[0].vname(), "INBOX/Remote");
    EXPECT_TRUE(t.find("INBOX/Remote"));
    EXPECT_TRUE(t.find("Inbox/Remote/sub"));
    EXPECT_FALSE(t.find("INBOX/remote"));  // only the INBOX level folds
    EXPECT_FALSE(t.find("INBOXX/Remote"));
}

TEST(RemoteMailboxTableTest, ConvertsToTheNamespaceSeparator) {
    std::vector<std::string> w;
    auto t = build({mb("Shared/Projects", {loc("home2.example.test")}),
                    mb("Shared/Mr.Smith", {loc("home2.example.test")})},
                   '.', &w);
    EXPECT_TRUE(t.find("Shared.Projects"));
    EXPECT_TRUE(t.find("Shared.Projects.sub"));
    EXPECT_FALSE(t.find("Shared/Projects"));
    ASSERT_EQ(t.size(), 1u);  // "Mr.Smith" cannot be a level with separator '.'
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("namespace separator"), std::string::npos);
}

TEST(RemoteMailboxTableTest, UnrepresentableNamesAreSkippedWithWarnings) {
    std::vector<std::string> w;
    auto t = build({mb("", {loc("h.example.test")}, "cn=a"),
                    mb("/lead", {loc("h.example.test")}, "cn=b"),
                    mb("a//b", {loc("h.example.test")}, "cn=c"),
                    mb("trail/", {loc("h.example.test")}, "cn=d"),
                    mb("bad\r\nname", {loc("h.example.test")}, "cn=e"),
                    mb("wild*", {loc("h.example.test")}, "cn=f"),
                    mb(std::string(4096, 'x'), {loc("h.example.test")}, "cn=g"),
                    mb("\xC3\x28", {loc("h.example.test")}, "cn=h"),
                    mb("nolocation", {}, "cn=i"),
                    mb("ok", {loc("h.example.test")}, "cn=j")},
                   '/', &w);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(w.size(), 9u);
    for (const auto& line : w) {
        EXPECT_EQ(line.find('\r'), std::string::npos) << line;
        EXPECT_EQ(line.find('\n'), std::string::npos) << line;
        EXPECT_LT(line.size(), 600u);
    }
}

// Deterministic conflict resolution: personal beats shared, then smallest DN.
TEST(RemoteMailboxTableTest, DuplicatesResolveDeterministically) {
    for (int order = 0; order < 2; ++order) {
        std::vector<RemoteMailbox> in = {
            mb("Dup", {loc("b.example.test")}, "cn=b,ou=shared"),
            mb("Dup", {loc("a.example.test")}, "cn=a,ou=shared"),
            mb("Mine", {loc("s.example.test")}, "cn=s,ou=shared"),
            mb("Mine", {loc("p.example.test")}, "cn=p,uid=alice", true)};
        if (order == 1) std::reverse(in.begin(), in.end());
        std::vector<std::string> w;
        auto t = build(in, '/', &w);
        EXPECT_EQ(t.find("Dup")->entry.location(0).host, "a.example.test");
        EXPECT_EQ(t.find("Mine")->entry.location(0).host, "p.example.test");
        EXPECT_EQ(w.size(), 2u);
    }
}

// R2193-3: a location naming this server is dropped; with none left the
// name stays local.
TEST(RemoteMailboxTableTest, SelfLocationsNeverReferred_R2193_3) {
    std::vector<std::string> w;
    auto t = build({mb("Loop", {loc("home1.example.test")}),
                    mb("Half", {loc("home1.example.test"), loc("home2.example.test")})},
                   '/', &w, {"home1.example.test", "127.0.0.40:10143"});
    EXPECT_FALSE(t.find("Loop"));
    ASSERT_TRUE(t.find("Half"));
    ASSERT_EQ(t.find("Half")->entry.locationCount(), 1u);
    EXPECT_EQ(t.find("Half")->entry.location(0).host, "home2.example.test");
    EXPECT_EQ(w.size(), 3u);  // two self locations + the skipped entry
}

// REQUIREMENTS §2.6 item 3: a location outside allowed_hosts is never a
// referral target; an entry left without locations stays local.
TEST(RemoteMailboxTableTest, LocationsOutsideAllowListAreDropped) {
    std::vector<std::string> w;
    auto t = RemoteMailboxTable::build(
        {mb("Rogue", {loc("evil.example.org")}),
         mb("Mixed", {loc("evil.example.org"), loc("home2.example.test")})},
        '/', {"home1.example.test"}, {"home?.EXAMPLE.test"}, &w);
    EXPECT_FALSE(t.find("Rogue"));
    ASSERT_TRUE(t.find("Mixed"));
    ASSERT_EQ(t.find("Mixed")->entry.locationCount(), 1u);
    EXPECT_EQ(t.find("Mixed")->entry.location(0).host, "home2.example.test");
    ASSERT_EQ(w.size(), 3u);  // two refused locations + the skipped entry
    EXPECT_NE(w[0].find("not in allowed_hosts"), std::string::npos) << w[0];
}

// The build asks where a location may go once per run of locations on one
// server: a location right after another on the same host but another
// port, or after a refused one, is judged on its own.
TEST(RemoteMailboxTableTest, EachLocationJudgedByItsOwnHostAndPort) {
    std::vector<std::string> w;
    auto t = RemoteMailboxTable::build(
        {mb("A", {loc("home1.example.test", 10143), loc("home1.example.test", 143)}),
         mb("B", {loc("home1.example.test", 143)}),
         mb("C", {loc("home1.example.test", 10143)}),
         mb("D", {loc("evil.example.org"), loc("home2.example.test")}),
         mb("E", {loc("home2.example.test"), loc("evil.example.org"), loc("evil.example.org")}),
         mb("F", {loc("home2.example.test."), loc("home2.example.test", 10143)})},
        '/', {"127.0.0.40", "home1.example.test:10143"}, {"home?.example.test"}, &w);
    ASSERT_TRUE(t.find("A"));
    ASSERT_EQ(t.find("A")->entry.locationCount(), 1u);
    EXPECT_EQ(t.find("A")->entry.location(0).port, 143);
    ASSERT_TRUE(t.find("B"));
    EXPECT_EQ(t.find("B")->entry.location(0).port, 143);
    EXPECT_FALSE(t.find("C"));  // its only location is this server
    ASSERT_TRUE(t.find("D"));
    ASSERT_EQ(t.find("D")->entry.locationCount(), 1u);
    EXPECT_EQ(t.find("D")->entry.location(0).host, "home2.example.test");
    ASSERT_TRUE(t.find("E"));
    ASSERT_EQ(t.find("E")->entry.locationCount(), 1u);
    ASSERT_TRUE(t.find("F"));
    EXPECT_EQ(t.find("F")->entry.locationCount(), 2u);
    // A's and C's self locations, C skipped, D's and E's two refused ones.
    ASSERT_EQ(w.size(), 6u);
    EXPECT_NE(w[0].find("is this server"), std::string::npos) << w[0];
    EXPECT_NE(w[1].find("is this server"), std::string::npos) << w[1];
    EXPECT_NE(w[2].find("no usable location"), std::string::npos) << w[2];
    EXPECT_NE(w[3].find("not in allowed_hosts"), std::string::npos) << w[3];
    EXPECT_NE(w[4].find("not in allowed_hosts"), std::string::npos) << w[4];
    EXPECT_NE(w[5].find("not in allowed_hosts"), std::string::npos) << w[5];
}

// R2193-5/-8/-9, R2193-12, D-19: URLs per location, preferred first,
// the remote name, the inferior appended, ;AUTH=*, UTF-8 percent-encoded.
TEST(RemoteMailboxTableTest, ReferralUrls_R2193_8_9_D19) {
    auto t = build({mb("Shared/Projects", {loc("home2.example.test", 10143, std::string("Projects")),
                                           loc("home3.example.test", 143)}),
                    mb("Shared/B\xC3\xBCro", {loc("home2.example.test", 143, std::nullopt, "ops")})},
                   '.');
    std::vector<std::string> skipped;
    auto urls = dref::buildReferralUrls(*t.find("Shared.Projects.2026"), "alice", &skipped);
    ASSERT_EQ(urls.size(), 2u);
    EXPECT_EQ(urls[0], "imap://alice;AUTH=*@home2.example.test:10143/Projects/2026");
    EXPECT_EQ(urls[1], "imap://alice;AUTH=*@home3.example.test/Shared/Projects/2026");
    auto b = dref::buildReferralUrls(*t.find("Shared.B\xC3\xBCro"), "alice", &skipped);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], "imap://ops;AUTH=*@home2.example.test/Shared/B%C3%BCro");
    EXPECT_TRUE(skipped.empty());
    auto u = dref::buildReferralUrls(*t.find("Shared.Projects"), "fred@example.com", &skipped);
    EXPECT_EQ(u[0], "imap://fred%40example.com;AUTH=*@home2.example.test:10143/Projects");
}

TEST(RemoteMailboxTableTest, ForEachMatchUsesPatterns) {
    auto t = build({mb("Shared/Projects", {loc("h.example.test")}),
                    mb("Shared/Projects/Old", {loc("h.example.test")}),
                    mb("Shared/B\xC3\xBCro", {loc("h.example.test")}),
                    mb("INBOX/Remote", {loc("h.example.test")}),
                    mb("Top", {loc("h.example.test")})});
    auto collect = [&](const char* ref, const char* pat) {
        std::vector<std::string> out;
        t.forEachMatch(ListPattern(ref, pat, '/'),
                       [&](const dref::RemoteMailboxEntry& e) { out.emplace_back(e.vname()); });
        return out;
    };
    EXPECT_EQ(collect("", "*").size(), 5u);
    EXPECT_EQ(collect("", "%"), std::vector<std::string>({"Top"}));
    EXPECT_EQ(collect("", "Shared/%"),
              std::vector<std::string>({"Shared/B\xC3\xBCro", "Shared/Projects"}));
    EXPECT_EQ(collect("Shared/", "*").size(), 3u);
    EXPECT_EQ(collect("", "inbox/*"), std::vector<std::string>({"INBOX/Remote"}));
    EXPECT_EQ(collect("", "i*"), std::vector<std::string>({"INBOX/Remote"}));
    EXPECT_TRUE(collect("", "Nothing*").empty());
}

// Item 1: 100k entries; a lookup costs at most one hash probe per level of
// the looked-up name, whatever the table size (no linear scan).
TEST(RemoteMailboxTableTest, HundredThousandEntriesLookupCostIsPerLevel) {
    std::vector<RemoteMailbox> in;
    in.reserve(100000);
    for (int i = 0; i < 100000; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "Shared/team%03d/box%05d", i % 1000, i);
        in.push_back(mb(name, {loc("home2.example.test")}, std::string("cn=") + name));
    }
    auto start = std::chrono::steady_clock::now();
    auto t = build(in);
    auto builtUs = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    ASSERT_EQ(t.size(), 100000u);
    std::printf("[ figure ] table build, 100000 entries: %lld us\n",
                static_cast<long long>(builtUs));

    uint64_t before = t.probes();
    size_t found = 0;
    for (int i = 0; i < 100000; ++i) {
        char name[96];
        // Depth 5: an inferior two levels below the entry.
        std::snprintf(name, sizeof name, "Shared/team%03d/box%05d/a/b", i % 1000, i);
        if (t.find(name)) ++found;
    }
    EXPECT_EQ(found, 100000u);
    EXPECT_LE(t.probes() - before, 100000u * 5);  // <= depth probes per lookup

    before = t.probes();
    for (int i = 0; i < 100000; ++i) {
        char name[96];
        std::snprintf(name, sizeof name, "Local/folder%05d", i);
        EXPECT_FALSE(t.find(name));
    }
    EXPECT_LE(t.probes() - before, 100000u * 2);
}

TEST(RemoteMailboxTableTest, BuildFigureThousandEntries) {
    std::vector<RemoteMailbox> in;
    for (int i = 0; i < 1000; ++i)
        in.push_back(mb("Shared/box" + std::to_string(i), {loc("home2.example.test")}));
    auto start = std::chrono::steady_clock::now();
    auto t = build(in);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    EXPECT_EQ(t.size(), 1000u);
    std::printf("[ figure ] table build, 1000 entries: %lld us\n", static_cast<long long>(us));
}

TEST(RemoteMailboxTableTest, MovedTableKeepsWorkingIndex) {
    auto t = build({mb("Shared/Projects", {loc("h.example.test")})});
    RemoteMailboxTable moved(std::move(t));
    EXPECT_TRUE(moved.find("Shared/Projects/x"));
    RemoteMailboxTable assigned;
    assigned = std::move(moved);
    EXPECT_TRUE(assigned.find("Shared/Projects"));
    EXPECT_FALSE(RemoteMailboxTable().find("x"));
}

// Everything a location carried survives the compact layout: user, auth,
// port, a mailbox equal to or different from the directory name, the
// UIDVALIDITY, several locations in order; the directory's own spelling of
// INBOX and its '/' separator come back for URLs (D-19).
TEST(RemoteMailboxTableTest, EntriesReadBackAsBuilt_R2193_9_D19) {
    ImapUrlParts full = loc("home2.example.test", 10143, std::string("Elsewhere/Box"), "ops");
    full.auth = "GSSAPI";
    full.uidValidity = 42;
    ImapUrlParts same = loc("home3.example.test", 143, std::string("Shared/Projects"));
    same.auth = "";
    auto t = build({mb("Shared/Projects", {full, same, loc("home4.example.test")}, "cn=p", true),
                    mb("inbox/Remote", {loc("home2.example.test")})},
                   '.');
    ASSERT_EQ(t.size(), 2u);
    auto p = t.find("Shared.Projects")->entry;
    EXPECT_EQ(p.vname(), "Shared.Projects");
    EXPECT_EQ(p.directoryName(), "Shared/Projects");
    EXPECT_TRUE(p.personal());
    EXPECT_EQ(p.dn(), "");  // dropped by default
    ASSERT_EQ(p.locationCount(), 3u);
    ImapUrlParts a = p.location(0);
    EXPECT_EQ(a.host, "home2.example.test");
    EXPECT_EQ(a.port, 10143);
    EXPECT_EQ(a.user, "ops");
    EXPECT_EQ(a.auth, "GSSAPI");
    EXPECT_EQ(a.mailbox, std::optional<std::string>("Elsewhere/Box"));
    EXPECT_EQ(a.uidValidity, std::optional<uint32_t>(42));
    ImapUrlParts b = p.location(1);
    EXPECT_EQ(b.host, "home3.example.test");
    EXPECT_EQ(b.auth, "");
    EXPECT_EQ(b.mailbox, std::optional<std::string>("Shared/Projects"));
    EXPECT_FALSE(b.uidValidity);
    ImapUrlParts c = p.location(2);
    EXPECT_EQ(c.host, "home4.example.test");
    EXPECT_FALSE(c.mailbox);
    EXPECT_EQ(p.locations().size(), 3u);

    auto inbox = t.find("INBOX.Remote.x");
    ASSERT_TRUE(inbox);
    EXPECT_EQ(inbox->entry.vname(), "INBOX.Remote");
    EXPECT_EQ(inbox->entry.directoryName(), "inbox/Remote");
    std::vector<std::string> skipped;
    auto urls = dref::buildReferralUrls(*inbox, "alice", &skipped);
    ASSERT_EQ(urls.size(), 1u);
    EXPECT_EQ(urls[0], "imap://alice;AUTH=*@home2.example.test/inbox/Remote/x");
}

TEST(RemoteMailboxTableTest, DnsKeptOnRequest) {
    std::vector<std::string> w;
    auto t = RemoteMailboxTable::build({mb("A", {loc("h.example.test")}, "cn=a,ou=x")}, '/', {}, {},
                                       &w, dref::EntryDns::Kept);
    EXPECT_EQ(t.entries()[0].dn(), "cn=a,ou=x");
}

// Names deeper than the lookup's inline level buffer (32 separators) still
// resolve to the longest covering entry.
TEST(RemoteMailboxTableTest, DeepNamesResolve) {
    std::string deep = "L0";
    for (int i = 1; i < 40; ++i) deep += "/L" + std::to_string(i);
    auto t = build({mb(deep, {loc("h.example.test")}), mb("L0/L1", {loc("h.example.test")})});
    auto m = t.find(deep + "/x/y");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->entry.vname(), deep);
    EXPECT_EQ(m->inferior, "x/y");
    auto shallow = t.find("L0/L1/L2/other/" + std::string(2000, 'z'));
    ASSERT_TRUE(shallow);
    EXPECT_EQ(shallow->entry.vname(), "L0/L1");
}

// Issue 6 target: <= 200 bytes per remote entry in the imap process.  The
// table's own share, for entries shaped like the benchmark's (one location
// whose URL names the same mailbox, one home server): the name once, small
// records, the index; no DN, no second copy of the name, one server record.
TEST(RemoteMailboxTableTest, MemoryPerEntryIsCompact) {
    std::vector<RemoteMailbox> in;
    size_t nameBytes = 0;
    for (int i = 0; i < 100000; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "Remote/g%03d/m%06d", i / 1000, i);
        nameBytes += std::strlen(name);
        in.push_back(mb(name, {loc("127.0.0.102", 10143, std::string(name))},
                        std::string("imapMailboxName=") + name +
                            ",uid=mb100k,ou=people,dc=example,dc=test",
                        true));
    }
    auto t = build(in);
    ASSERT_EQ(t.size(), 100000u);
    const double perEntry = static_cast<double>(t.memoryBytes()) / 100000.0;
    std::printf("[ figure ] table memory, 100000 entries: %zu bytes (%.1f per entry)\n",
                t.memoryBytes(), perEntry);
    EXPECT_GE(t.memoryBytes(), nameBytes);  // the accounting covers the names
    EXPECT_LE(perEntry, 100.0);
    EXPECT_EQ(t.find("Remote/g042/m042042")->entry.location(0).mailbox,
              std::optional<std::string>("Remote/g042/m042042"));

    std::vector<std::string> w;
    auto withDns = RemoteMailboxTable::build(in, '/', {}, {}, &w, dref::EntryDns::Kept);
    EXPECT_GE(withDns.memoryBytes(), t.memoryBytes() + 100000u * 60u);
    RemoteMailboxTable empty;
    EXPECT_EQ(empty.memoryBytes(), sizeof(RemoteMailboxTable));
}

// The build keeps input that is already in table order as it is and
// reuses the previous location's server without a lookup: the table must
// not depend on either (sorted, reversed and shuffled input, names with
// several entries, servers that repeat, alternate and come back, and ones
// that differ only in port, user or auth).
TEST(RemoteMailboxTableTest, SameTableWhateverTheInputOrder) {
    auto authed = [](ImapUrlParts p, const std::string& auth) {
        p.auth = auth;
        return p;
    };
    // Neighbours in table order differ in one field only: port (B, B2),
    // user (B2, C is another host; D, D2), auth (D2, E).
    std::vector<RemoteMailbox> sorted = {
        mb("A", {loc("h1.example.test")}),
        mb("A/B", {loc("h1.example.test"), loc("h2.example.test")}),
        mb("B", {loc("h2.example.test", 10143)}),
        mb("C", {loc("h1.example.test", 10143)}, "cn=c2,ou=shared"),
        mb("C", {loc("h2.example.test")}, "cn=c1,ou=shared"),
        mb("D", {loc("h2.example.test", 143, std::string("Elsewhere"), "u")}),
        mb("D2", {loc("h2.example.test", 143, std::nullopt, "v")}),
        mb("E", {authed(loc("h2.example.test", 143, std::nullopt, "v"), "")}),
        mb("F", {loc("h2.example.test"), loc("h1.example.test")}),
        mb("G", {loc("h1.example.test")}, "cn=g,uid=alice", true),
        mb("G", {loc("h3.example.test")}, "cn=a,ou=shared"),
    };
    auto describe = [](const RemoteMailboxTable& t) {
        std::string out;
        for (const auto& e : t.entries()) {
            out += std::string(e.vname()) + (e.personal() ? " p" : " s");
            for (const ImapUrlParts& l : e.locations())
                out += " " + l.host + ":" + std::to_string(l.port) + ":" + l.user + ":" + l.auth +
                       ":" + l.mailbox.value_or("-");
            out += "\n";
        }
        return out;
    };
    std::vector<std::string> w0;
    const RemoteMailboxTable reference = build(sorted, '/', &w0);
    ASSERT_EQ(reference.size(), 9u);
    EXPECT_EQ(describe(reference),
              "A s h1.example.test:143::*:-\n"
              "A/B s h1.example.test:143::*:- h2.example.test:143::*:-\n"
              "B s h2.example.test:10143::*:-\n"
              "C s h2.example.test:143::*:-\n"
              "D s h2.example.test:143:u:*:Elsewhere\n"
              "D2 s h2.example.test:143:v:*:-\n"
              "E s h2.example.test:143:v::-\n"
              "F s h2.example.test:143::*:- h1.example.test:143::*:-\n"
              "G p h1.example.test:143::*:-\n");
    std::vector<std::vector<RemoteMailbox>> orders = {sorted, sorted, sorted};
    std::reverse(orders[1].begin(), orders[1].end());
    std::rotate(orders[2].begin(), orders[2].begin() + 4, orders[2].end());
    std::swap(orders[2][1], orders[2][8]);
    for (size_t i = 0; i < orders.size(); ++i) {
        std::vector<std::string> w;
        const RemoteMailboxTable t = build(orders[i], '/', &w);
        EXPECT_EQ(describe(t), describe(reference)) << "order " << i;
        EXPECT_EQ(w.size(), w0.size()) << "order " << i;
    }
}
