// What an owning server lists below a remote entry (issue 12 item 4,
// plugin/core/mailbox_listing/owner_listing): hostile answers are checked like
// directory values, and the session's cache keeps answers for cache_ttl and
// failures for negative_cache_ttl.
#include "owner_listing.h"

#include <gtest/gtest.h>

#include "list_pattern.h"
#include "../mailbox_session/mailbox_session_test_util.h"

using dref::OwnerListingCache;
using dref::OwnerMailbox;
using dref::RemoteMailboxTable;

namespace {

RemoteMailboxTable table() {
    std::vector<std::string> warnings;
    return RemoteMailboxTable::build(
        {dref::testing_session::remoteMailbox("Shared/Projects", "home2.test"),
         dref::testing_session::remoteMailbox("Shared/Projects/Secret", "home3.test")},
        '/', {}, {}, &warnings);
}

std::vector<OwnerMailbox> names(std::initializer_list<const char*> list) {
    std::vector<OwnerMailbox> out;
    for (const char* n : list) out.push_back(OwnerMailbox{n, false});
    return out;
}

std::vector<std::string> vnames(const std::vector<OwnerMailbox>& v) {
    std::vector<std::string> out;
    for (const OwnerMailbox& m : v) out.push_back(m.vname);
    return out;
}

}  // namespace

// R2193-14: the inferiors the owner lists are kept, sorted and merged.
TEST(OwnerListingTest, KeepsNamesBelowTheEntrySortedOnce_R2193_14) {
    RemoteMailboxTable t = table();
    auto entry = t.find("Shared/Projects")->entry;
    std::vector<std::string> warnings;
    std::vector<OwnerMailbox> raw = names({"Shared/Projects/2026/Q1", "Shared/Projects/2026",
                                           "Shared/Projects/B\xC3\xBCro", "Shared/Projects/2026"});
    raw[1].noselect = true;  // one copy \Noselect, the other selectable: selectable
    auto kept = dref::validateOwnerListing(t, entry, raw, 100, &warnings);
    EXPECT_EQ(vnames(kept), (std::vector<std::string>{"Shared/Projects/2026", "Shared/Projects/2026/Q1",
                                                      "Shared/Projects/B\xC3\xBCro"}));
    EXPECT_FALSE(kept[0].noselect);
    EXPECT_TRUE(warnings.empty());
}

// Hostile owner answers: names outside the subtree, the entry itself, bad
// bytes, wildcards, empty levels, over-long names, and another entry's
// subtree never reach the listing; each kind is logged once.
TEST(OwnerListingTest, RefusesHostileNames) {
    RemoteMailboxTable t = table();
    auto entry = t.find("Shared/Projects")->entry;
    std::vector<std::string> warnings;
    auto kept = dref::validateOwnerListing(
        t, entry,
        names({"Shared/Projects", "Shared/ProjectsX", "INBOX", "Shared/Projects/",
               "Shared/Projects//x", "Shared/Projects/a\r\nb", "Shared/Projects/\xFF",
               "Shared/Projects/a*", "Shared/Projects/%", "Shared/Projects/Secret",
               "Shared/Projects/Secret/x", "Shared/Projects/ok"}),
        100, &warnings);
    EXPECT_EQ(vnames(kept), (std::vector<std::string>{"Shared/Projects/ok"}));
    ASSERT_EQ(warnings.size(), 6u);  // outside, empty level, control, UTF-8, wildcard, other entry
    for (const std::string& w : warnings) {
        EXPECT_EQ(w.find('\r'), std::string::npos) << w;
        EXPECT_EQ(w.find('\n'), std::string::npos) << w;
    }
    std::string longName = "Shared/Projects/" + std::string(1100, 'a');
    warnings.clear();
    EXPECT_TRUE(dref::validateOwnerListing(t, entry, names({longName.c_str()}), 100, &warnings).empty());
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("longer than 1024"), std::string::npos);
}

// "." and ".." levels name no mailbox of their own ("x/.." is the entry
// itself): not listed, one warning; dots inside a level are names.
TEST(OwnerListingTest, RefusesDotLevels) {
    RemoteMailboxTable t = table();
    auto entry = t.find("Shared/Projects")->entry;
    std::vector<std::string> warnings;
    auto kept = dref::validateOwnerListing(
        t, entry,
        names({"Shared/Projects/.", "Shared/Projects/..", "Shared/Projects/x/..",
               "Shared/Projects/./y", "Shared/Projects/.hidden", "Shared/Projects/a..b",
               "Shared/Projects/..."}),
        100, &warnings);
    EXPECT_EQ(vnames(kept), (std::vector<std::string>{"Shared/Projects/...", "Shared/Projects/.hidden",
                                                      "Shared/Projects/a..b"}));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("4 name(s) refused ('.' or '..' hierarchy level)"), std::string::npos)
        << warnings[0];
}

// A huge answer costs at most maxNames names, with a warning.
TEST(OwnerListingTest, HugeAnswerIsCut) {
    RemoteMailboxTable t = table();
    auto entry = t.find("Shared/Projects")->entry;
    std::vector<OwnerMailbox> raw;
    for (int i = 0; i < 5000; ++i) raw.push_back(OwnerMailbox{"Shared/Projects/m" + std::to_string(i), false});
    std::vector<std::string> warnings;
    auto kept = dref::validateOwnerListing(t, entry, raw, 1000, &warnings);
    EXPECT_EQ(kept.size(), 1000u);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("4000 of 5000 names dropped"), std::string::npos) << warnings[0];
}

TEST(OwnerListingCacheTest, AnswerLivesCacheTtlFailureNegativeTtl) {
    OwnerListingCache cache(60000, 10000);
    EXPECT_TRUE(cache.due("Shared/Projects", 0));
    EXPECT_EQ(cache.names("Shared/Projects", 0), nullptr);
    cache.storeAnswer("Shared/Projects", names({"Shared/Projects/a"}), 1000);
    EXPECT_FALSE(cache.due("Shared/Projects", 60999));
    ASSERT_NE(cache.names("Shared/Projects", 60999), nullptr);
    EXPECT_EQ(cache.names("Shared/Projects", 60999)->size(), 1u);
    EXPECT_TRUE(cache.due("Shared/Projects", 61000));
    EXPECT_EQ(cache.names("Shared/Projects", 61000), nullptr);
    // The owner is down: nothing below the entry, and no new attempt for
    // negative_cache_ttl (no LIST waits for it again meanwhile).
    cache.storeFailure("Shared/Projects", 61000);
    EXPECT_EQ(cache.names("Shared/Projects", 61001), nullptr);
    EXPECT_FALSE(cache.due("Shared/Projects", 70999));
    EXPECT_TRUE(cache.due("Shared/Projects", 71000));
    // A clock that went backwards asks again rather than trusting the entry.
    EXPECT_TRUE(cache.due("Shared/Projects", 50000));
}

TEST(OwnerListingCacheTest, ForgetsEntriesThatLeftTheTable) {
    OwnerListingCache cache(60000, 10000);
    cache.storeAnswer("Shared/Projects", {}, 0);
    cache.storeAnswer("Shared/Gone", {}, 0);
    cache.storeFailure("Shared/Projects/Secret", 0);
    RemoteMailboxTable t = table();
    cache.retainEntriesOf(t);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.due("Shared/Gone", 1));
    EXPECT_FALSE(cache.due("Shared/Projects", 1));
}

// Only subtrees a pattern can reach are worth asking an owner about.
TEST(ListPatternTest, MayMatchBelow) {
    using dref::ListPattern;
    EXPECT_TRUE(ListPattern("", "*", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_TRUE(ListPattern("", "Shared/Projects/%", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_TRUE(ListPattern("Shared/", "Pro*", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_TRUE(ListPattern("", "%/%/%", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_TRUE(ListPattern("", "*/Q1", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_FALSE(ListPattern("", "%", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_FALSE(ListPattern("", "Shared/%", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_FALSE(ListPattern("", "Shared/Projects", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_FALSE(ListPattern("", "Archive/*", '/').mayMatchBelow("Shared/Projects"));
    EXPECT_TRUE(ListPattern("", "inbox/*", '/').mayMatchBelow("INBOX/Remote"));
}

// Dovecot's imapc panics on a LIST answer outside imapc_list_prefix (a
// sibling "Shared/ProjectsOld" answers LIST "" "Shared/Projects*"): such
// replies are dropped before imapc sees them.
TEST(OwnerListingTest, ListReplyOutsideThePrefixIsDropped) {
    using dref::OwnerListReply;
    auto c = [](const char* name, const char* prefix = "Shared/Projects", char sep = '/') {
        return dref::classifyOwnerListReply(name, prefix, sep);
    };
    EXPECT_EQ(c(""), OwnerListReply::Accept);  // the separator lookup
    EXPECT_EQ(c("Shared/Projects"), OwnerListReply::Accept);
    EXPECT_EQ(c("Shared/Projects/2026"), OwnerListReply::Accept);
    EXPECT_EQ(c("Shared/Projects/B&APw-ro"), OwnerListReply::Accept);
    EXPECT_EQ(c("Shared.Projects.2026", "Shared.Projects", '.'), OwnerListReply::Accept);
    // imapc's own LIST "" "Shared/Projects*" finds these: dropped quietly.
    EXPECT_EQ(c("Shared/ProjectsOld"), OwnerListReply::Sibling);
    EXPECT_EQ(c("Shared/Projects.x"), OwnerListReply::Sibling);
    EXPECT_EQ(c("Shared/Project"), OwnerListReply::Refuse);
    EXPECT_EQ(c("INBOX"), OwnerListReply::Refuse);
    EXPECT_EQ(c("shared/projects/x"), OwnerListReply::Refuse);
    EXPECT_EQ(c("x", ""), OwnerListReply::Refuse);
    // Not modified UTF-7: control characters (imapc would escape them into
    // the name) and 8-bit octets.
    EXPECT_EQ(c("Shared/Projects/a\r\nb"), OwnerListReply::Refuse);
    EXPECT_EQ(c("Shared/Projects/\x7f"), OwnerListReply::Refuse);
    EXPECT_EQ(c("Shared/Projects/B\xC3\xBCro"), OwnerListReply::Refuse);
    EXPECT_EQ(c("Shared/ProjectsOld\r\n"), OwnerListReply::Refuse);
    // "." and ".." levels below the entry (imapc would make "x" of "x/..").
    for (const char* name : {"Shared/Projects/.", "Shared/Projects/..", "Shared/Projects/x/..",
                             "Shared/Projects/./y"})
        EXPECT_EQ(c(name), OwnerListReply::Refuse) << name;
    EXPECT_EQ(c("Shared.Projects.x...", "Shared.Projects", '.'), OwnerListReply::Accept);  // empty levels
    EXPECT_EQ(c("Shared/Projects/.x"), OwnerListReply::Accept);
    EXPECT_EQ(c("Shared/Projects/x.."), OwnerListReply::Accept);
}

// A listing never takes relay slots that commands on other entries need.
TEST(OwnerListingTest, ListingAddsRelayNamespacesOnlyWhenTheWholeTableFits) {
    RemoteMailboxTable t = table();  // two entries
    dref::RelayConnectionSettings relay;
    relay.maxMailboxes = 2;
    EXPECT_TRUE(dref::listingMayAddRelayNamespaces(t, relay));
    relay.maxMailboxes = 1;
    EXPECT_FALSE(dref::listingMayAddRelayNamespaces(t, relay));
}

// What imapc may hold of one owner's answer before the relay drops the
// connection: above the names a listing keeps, bounded.
TEST(OwnerListingTest, OneAnswerReachesImapcUpToItsBound) {
    EXPECT_GT(dref::kMaxOwnerRepliesPerAnswer, dref::kMaxOwnerNamesPerEntry);
    EXPECT_FALSE(dref::ownerAnswerOverBound(1));
    EXPECT_FALSE(dref::ownerAnswerOverBound(dref::kMaxOwnerNamesPerEntry + 5));
    EXPECT_FALSE(dref::ownerAnswerOverBound(dref::kMaxOwnerRepliesPerAnswer));
    EXPECT_TRUE(dref::ownerAnswerOverBound(dref::kMaxOwnerRepliesPerAnswer + 1));
}
