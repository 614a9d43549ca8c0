// Remote mailbox lookups (RFC 2193) against the shared slapd: shared entries
// under mailbox_shared_base plus personal ones below the user's entry, with
// hostile entries skipped (named by DN in a warning), never passed on.
#include "directory_fixture.h"

#include <algorithm>

#include "remote_mailbox_cache_encoder.h"

namespace dref::test {
namespace {

const RemoteMailbox* findByName(const MailboxLookupResult& r, const std::string& name) {
    for (const auto& m : r.mailboxes) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

// R2193-8/9: each mailbox knows where it lives; personal entries are marked.
TEST(MailboxLookup, SharedAndPersonalMailboxes) {
    auto d = makeDirectory(testSettings());
    auto r = lookupMailboxes(*d, "alice");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found) << r->error;
    ASSERT_EQ(r->mailboxes.size(), 3u);

    const RemoteMailbox* buero = findByName(*r, "Ablage/B\xc3\xbcro");
    ASSERT_NE(buero, nullptr);
    EXPECT_TRUE(buero->personal);
    ASSERT_EQ(buero->locations.size(), 1u);
    EXPECT_EQ(buero->locations[0].host, "home2.example.test");
    EXPECT_EQ(buero->locations[0].user, "alice");
    ASSERT_TRUE(buero->locations[0].mailbox);
    EXPECT_EQ(*buero->locations[0].mailbox, "Ablage/B\xc3\xbcro");

    const RemoteMailbox* projects = findByName(*r, "Shared/Projects");
    ASSERT_NE(projects, nullptr);
    EXPECT_FALSE(projects->personal);
    EXPECT_EQ(projects->dn, "imapMailboxName=Shared/Projects,ou=mailboxes,dc=example,dc=test");

    // D-19: the remote server's own name for the mailbox is kept.
    const RemoteMailbox* archive = findByName(*r, "Shared/Archive");
    ASSERT_NE(archive, nullptr);
    EXPECT_EQ(archive->locations[0].port, 1143);
    EXPECT_EQ(*archive->locations[0].mailbox, "Archiv");
}

// Hostile entries (CR/LF in the name, ']' or NUL in the URL, a non-IMAP URL,
// a 4 KB name) are skipped with a warning that names their DN.
TEST(MailboxLookup, HostileEntriesAreSkippedWithWarnings) {
    auto d = makeDirectory(testSettings());
    auto r = lookupMailboxes(*d, "alice");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found);
    for (const char* dn : {"description=personal-crlf", "description=shared-crlf",
                           "description=shared-bracket-url", "description=shared-nul-url",
                           "description=shared-not-a-url", "description=shared-long-name"}) {
        EXPECT_TRUE(anyContains(r->warnings, dn)) << "no warning for " << dn;
    }
    for (const auto& m : r->mailboxes) {
        EXPECT_EQ(m.name.find_first_of(std::string("\r\n\0]", 4)), std::string::npos);
        EXPECT_LE(m.name.size(), 1024u);
        for (const auto& loc : m.locations) {
            EXPECT_EQ(loc.host.find_first_of(std::string("\r\n\0]", 4)), std::string::npos);
        }
    }
    for (const auto& w : r->warnings) {
        EXPECT_EQ(w.find_first_of(std::string("\r\n\0", 3)), std::string::npos) << w;
    }
}

TEST(MailboxLookup, UserWithoutPersonalMailboxesSeesSharedOnes) {
    auto d = makeDirectory(testSettings());
    auto r = lookupMailboxes(*d, "carol");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found);
    EXPECT_EQ(r->mailboxes.size(), 2u);
    EXPECT_EQ(findByName(*r, "Ablage/B\xc3\xbcro"), nullptr);
}

TEST(MailboxLookup, UnknownUserIsNotFound) {
    auto d = makeDirectory(testSettings());
    auto r = lookupMailboxes(*d, "nobody");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::NotFound);
    EXPECT_TRUE(r->mailboxes.empty());
}

TEST(MailboxLookup, MaxEntriesCapsTheList) {
    Settings s = testSettings();
    s.directory.mailboxMaxEntries = 1;
    auto d = makeDirectory(s);
    auto r = lookupMailboxes(*d, "alice");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found);
    EXPECT_EQ(r->mailboxes.size(), 1u);
    EXPECT_TRUE(anyContains(r->warnings, "mailbox_max_entries") || anyContains(r->warnings, "more than 1"));
}

TEST(MailboxLookup, SecondLookupIsCached) {
    auto d = makeDirectory(testSettings());
    ASSERT_TRUE(lookupMailboxes(*d, "alice"));
    const auto searches = d->ldapStats().searches;
    auto r = lookupMailboxes(*d, "alice");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->fromCache);
    EXPECT_EQ(r->mailboxes.size(), 3u);
    EXPECT_EQ(d->ldapStats().searches, searches);
}

// The imap plugin's directory (DirectoryOptions::cacheMailboxes = false):
// its session tables are the cache, so mailbox answers are not held twice in
// the process; the user record is still cached (one search less per refresh).
TEST(MailboxLookup, MailboxCacheCanBeTurnedOff) {
    std::string error;
    DirectoryOptions options = testOptions();
    options.cacheMailboxes = false;
    auto d = Directory::create(testSettings(), &error, options);
    ASSERT_TRUE(d) << error;
    ASSERT_TRUE(lookupMailboxes(*d, "alice"));
    const auto searches = d->ldapStats().searches;
    auto r = lookupMailboxes(*d, "alice");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found) << r->error;
    EXPECT_FALSE(r->fromCache);
    EXPECT_EQ(r->mailboxes.size(), 3u);
    EXPECT_EQ(d->ldapStats().searches, searches + 2);  // personal + shared bases
    EXPECT_EQ(d->stats().cacheEntries, 1u);            // alice's user record only
}

// The referral-directory service's directory (DirectoryOptions::
// encodeMailboxes): each mailbox encoded on the LDAP worker as it arrives.
// The answer it passes on is byte for byte the one encodeMailboxCache makes of
// the mapped mailboxes: the same hostile entries skipped with the same
// warnings, personal first, a mailbox that both searches find kept once (a
// shared base above the users), at most mailbox_max_entries.
TEST(MailboxLookup, EncodedAnswerIsTheMappedAnswerEncoded) {
    Settings wholeTree = testSettings();
    wholeTree.directory.mailboxSharedBase = "dc=example,dc=test";
    Settings capped = wholeTree;
    capped.directory.mailboxMaxEntries = 2;
    for (const Settings& s : {testSettings(), wholeTree, capped}) {
        for (const char* user : {"alice", "carol", "nobody"}) {
            SCOPED_TRACE(std::string(user) + " under " + s.directory.mailboxSharedBase + ", max " +
                         std::to_string(s.directory.mailboxMaxEntries));
            std::string error;
            DirectoryOptions plain = testOptions();
            plain.cacheMailboxes = false;
            DirectoryOptions encoding = plain;
            encoding.encodeMailboxes = true;
            auto mappedDir = Directory::create(s, &error, plain);
            auto encodedDir = Directory::create(s, &error, encoding);
            ASSERT_TRUE(mappedDir && encodedDir) << error;
            auto mapped = lookupMailboxes(*mappedDir, user);
            auto encoded = lookupMailboxes(*encodedDir, user);
            ASSERT_TRUE(mapped && encoded);
            ASSERT_EQ(encoded->status, mapped->status) << encoded->error;
            // Which search finishes first is up to the server: compare sorted.
            std::sort(mapped->warnings.begin(), mapped->warnings.end());
            std::sort(encoded->warnings.begin(), encoded->warnings.end());
            EXPECT_EQ(encoded->warnings, mapped->warnings);
            EXPECT_TRUE(encoded->mailboxes.empty());
            if (mapped->status != DirectoryStatus::Found) {
                EXPECT_FALSE(encoded->encoded);
                continue;
            }
            ASSERT_TRUE(encoded->encoded);
            EXPECT_TRUE(encoded->encodeError.empty()) << encoded->encodeError;
            EXPECT_EQ(encoded->encodedCount, mapped->mailboxes.size());
            MailboxCacheRecord rec;
            rec.user = user;
            rec.identity = mailboxCacheIdentity(s.directory);
            rec.mailboxes = mapped->mailboxes;
            MailboxCacheLimits limits;
            limits.maxEntries = s.directory.mailboxMaxEntries;
            auto expected = encodeMailboxCache(rec, limits, &error);
            ASSERT_TRUE(expected) << error;
            auto got = assembleMailboxCache(user, rec.identity, CachedAnswer::Found,
                                            encoded->encodedCount, encoded->encodedLines, limits,
                                            &error);
            ASSERT_TRUE(got) << error;
            EXPECT_EQ(*got, *expected);
        }
    }
}

TEST(MailboxLookup, MissingSharedBaseIsAWarningNotAFailure) {
    Settings s = testSettings();
    s.directory.mailboxSharedBase = "ou=nowhere,dc=example,dc=test";
    auto d = makeDirectory(s);
    auto r = lookupMailboxes(*d, "alice");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found);
    EXPECT_EQ(r->mailboxes.size(), 1u);  // the personal one
    EXPECT_TRUE(anyContains(r->warnings, "ou=nowhere"));
}

}  // namespace
}  // namespace dref::test
