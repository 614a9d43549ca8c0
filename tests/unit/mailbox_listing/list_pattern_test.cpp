// RLIST/RLSUB pattern matching (RFC 2193 §5 -> RFC 3501 §6.3.8 wildcards).
#include "list_pattern.h"

#include <gtest/gtest.h>

using dref::ListPattern;

namespace {

bool m(const char* ref, const char* pat, const char* name, char sep = '/') {
    return ListPattern(ref, pat, sep).matches(name);
}

}  // namespace

// R2193-27: "%" matches within one hierarchy level only.
TEST(ListPatternTest, PercentStopsAtSeparator_R2193_27) {
    EXPECT_TRUE(m("", "%", "Shared"));
    EXPECT_FALSE(m("", "%", "Shared/Projects"));
    EXPECT_TRUE(m("", "Shared/%", "Shared/Projects"));
    EXPECT_FALSE(m("", "Shared/%", "Shared/Projects/2026"));
    EXPECT_TRUE(m("", "Shared/%/2026", "Shared/Projects/2026"));
    EXPECT_TRUE(m("", "%", ""));  // zero characters
    EXPECT_TRUE(m("", "S%d", "Shared"));
    EXPECT_FALSE(m("", "S%d", "Sha/red"));
}

// R2193-27: "*" crosses the separator.
TEST(ListPatternTest, StarCrossesSeparator_R2193_27) {
    EXPECT_TRUE(m("", "*", "Shared/Projects/2026"));
    EXPECT_TRUE(m("", "Shared*", "Shared"));
    EXPECT_TRUE(m("", "Shared*", "Shared/Projects"));
    EXPECT_TRUE(m("", "*/2026", "Shared/Projects/2026"));
    EXPECT_FALSE(m("", "*/2027", "Shared/Projects/2026"));
    EXPECT_TRUE(m("", "*j*", "Shared/Projects"));
    EXPECT_FALSE(m("", "Shared/*x", "Shared/Projects"));
}

TEST(ListPatternTest, SeparatorIsTheNamespaces) {
    EXPECT_FALSE(m("", "%", "Shared.Projects", '.'));
    EXPECT_TRUE(m("", "%", "Shared/Projects", '.'));  // '/' is an ordinary character here
    EXPECT_TRUE(m("", "Shared.%", "Shared.Projects", '.'));
}

// RFC 3501 §6.3.8: the reference is joined to the pattern (Dovecot: concatenation).
TEST(ListPatternTest, ReferenceIsJoinedAsListDoes) {
    ListPattern p("Shared/", "%", '/');
    EXPECT_EQ(p.joined(), "Shared/%");
    EXPECT_TRUE(p.matches("Shared/Projects"));
    EXPECT_FALSE(p.matches("Shared"));
    EXPECT_FALSE(p.matches("Other/Projects"));
    EXPECT_TRUE(m("Shared", "*", "Shared/Projects"));
    EXPECT_TRUE(m("Shared", "*", "SharedX"));  // plain concatenation, as LIST
}

// RFC 3501 §5.1: INBOX is case-insensitive, other names are not.
TEST(ListPatternTest, InboxIsCaseInsensitive) {
    EXPECT_TRUE(m("", "inbox", "INBOX"));
    EXPECT_TRUE(m("", "INBOX", "inbox"));
    EXPECT_TRUE(m("", "Inbox/%", "INBOX/Remote"));
    EXPECT_FALSE(m("", "inbox/remote", "INBOX/Remote"));  // only the INBOX level
    EXPECT_TRUE(m("", "in%", "INBOX"));
    EXPECT_FALSE(m("", "shared/%", "Shared/Projects"));
    EXPECT_FALSE(m("", "inbox", "INBOXES"));
    EXPECT_TRUE(m("", "inbox*", "inboxes"));
    EXPECT_FALSE(m("", "INBOX*", "inboxes"));  // "inboxes" is not INBOX: case-sensitive
}

TEST(ListPatternTest, NonAsciiNamesMatchOctetWise) {
    EXPECT_TRUE(m("", "Shared/%", "Shared/B\xC3\xBCro"));
    EXPECT_TRUE(m("", "Shared/B\xC3\xBC%", "Shared/B\xC3\xBCro"));
    EXPECT_FALSE(m("", "Shared/Bu%", "Shared/B\xC3\xBCro"));
    EXPECT_TRUE(m("", "*\xE5\x8F\xB0\xE5\x8C\x97", "\xE6\x97\xA5/\xE5\x8F\xB0\xE5\x8C\x97"));
}

TEST(ListPatternTest, LiteralPrefixAndTrailingPercent) {
    ListPattern p("", "Shared/Pro%", '/');
    EXPECT_EQ(p.literalPrefix(), "Shared/Pro");
    EXPECT_FALSE(p.prefixMayMatchInboxCase());
    EXPECT_TRUE(p.endsWithPercent());
    ListPattern q("", "inbox/*", '/');
    EXPECT_EQ(q.literalPrefix(), "INBOX/");
    EXPECT_FALSE(q.endsWithPercent());
    EXPECT_TRUE(ListPattern("", "in*", '/').prefixMayMatchInboxCase());
    EXPECT_TRUE(ListPattern("", "*", '/').prefixMayMatchInboxCase());
    EXPECT_FALSE(ListPattern("", "x*", '/').prefixMayMatchInboxCase());
}

TEST(ListPatternTest, ManyWildcardsStayLinear) {
    std::string pattern(200, '*');
    pattern += "x";
    std::string name(1000, 'a');
    EXPECT_FALSE(m("", pattern.c_str(), name.c_str()));
    name.back() = 'x';
    EXPECT_TRUE(m("", pattern.c_str(), name.c_str()));
    std::string pct;
    for (int i = 0; i < 100; ++i) pct += "%/";
    EXPECT_FALSE(m("", pct.c_str(), name.c_str()));
}

TEST(ListPatternTest, EmptyPatternMatchesOnlyEmptyName) {
    EXPECT_TRUE(m("", "", ""));
    EXPECT_FALSE(m("", "", "INBOX"));
}
