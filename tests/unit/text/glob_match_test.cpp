// Client-ID globs (settings client_id_rule).
#include "glob_match.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

namespace dref {
namespace {

TEST(GlobMatch, Literals) {
    EXPECT_TRUE(globMatch("", ""));
    EXPECT_FALSE(globMatch("", "a"));
    EXPECT_FALSE(globMatch("a", ""));
    EXPECT_TRUE(globMatch("Thunderbird", "Thunderbird"));
    EXPECT_FALSE(globMatch("Thunderbird", "Thunderbird2"));
    EXPECT_FALSE(globMatch("Thunderbird2", "Thunderbird"));
}

TEST(GlobMatch, AsciiCaseInsensitive) {
    EXPECT_TRUE(globMatch("thunderbird*", "Thunderbird 115"));
    EXPECT_TRUE(globMatch("ALPINE", "alpine"));
    EXPECT_FALSE(globMatch("\xC3\xA4", "\xC3\x84"));  // only ASCII folds
}

TEST(GlobMatch, Star) {
    EXPECT_TRUE(globMatch("*", ""));
    EXPECT_TRUE(globMatch("*", "anything at all"));
    EXPECT_TRUE(globMatch("**", ""));
    EXPECT_TRUE(globMatch("Microsoft*", "Microsoft Outlook"));
    EXPECT_TRUE(globMatch("*Outlook", "Microsoft Outlook"));
    EXPECT_TRUE(globMatch("*soft*Out*", "Microsoft Outlook"));
    EXPECT_FALSE(globMatch("*Out*soft*", "Microsoft Outlook"));
    EXPECT_TRUE(globMatch("a*a", "aa"));
    EXPECT_FALSE(globMatch("a*a", "a"));  // head and tail may not overlap
    EXPECT_TRUE(globMatch("ab*ba", "aba*ba"));
    EXPECT_FALSE(globMatch("ab*ba", "aba"));
    EXPECT_TRUE(globMatch("*abc*abc*", "xxabcabcxx"));
    EXPECT_FALSE(globMatch("*abc*abc*", "xxabcxx"));
}

TEST(GlobMatch, QuestionMark) {
    EXPECT_TRUE(globMatch("?", "a"));
    EXPECT_FALSE(globMatch("?", ""));
    EXPECT_FALSE(globMatch("?", "ab"));
    EXPECT_TRUE(globMatch("K-9 Mail ?.?", "K-9 Mail 6.4"));
    EXPECT_TRUE(globMatch("*?", "a"));
    EXPECT_FALSE(globMatch("*??", "a"));
    EXPECT_TRUE(globMatch("?*?", "ab"));
    EXPECT_TRUE(globMatch("a*?c*d", "abcxcd"));
}

TEST(GlobMatch, NoEscapesOrClasses) {
    EXPECT_TRUE(globMatch("[abc]", "[abc]"));
    EXPECT_FALSE(globMatch("[abc]", "a"));
    EXPECT_TRUE(globMatch("a\\*", "a\\xyz"));
}

// Reference: the textbook exponential recursion, fine for tiny inputs.
bool reference(std::string_view p, std::string_view t) {
    if (p.empty()) return t.empty();
    if (p[0] == '*') return reference(p.substr(1), t) || (!t.empty() && reference(p, t.substr(1)));
    if (t.empty()) return false;
    auto low = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (p[0] != '?' && low(p[0]) != low(t[0])) return false;
    return reference(p.substr(1), t.substr(1));
}

TEST(GlobMatch, AgreesWithReferenceOnRandomInputs) {
    std::mt19937 rng(2221);
    const std::string patternAlphabet = "abA*?";
    const std::string textAlphabet = "abB";
    for (int round = 0; round < 20000; ++round) {
        std::string p, t;
        const int plen = static_cast<int>(rng() % 8);
        const int tlen = static_cast<int>(rng() % 10);
        for (int i = 0; i < plen; ++i) p += patternAlphabet[rng() % patternAlphabet.size()];
        for (int i = 0; i < tlen; ++i) t += textAlphabet[rng() % textAlphabet.size()];
        ASSERT_EQ(globMatch(p, t), reference(p, t)) << "pattern '" << p << "' text '" << t << "'";
    }
}

// A backtracking matcher needs exponential (or at least quadratic per star)
// time here; this one must stay far below a second.
TEST(GlobMatch, PathologicalPatternIsFast) {
    std::string pattern;
    for (int i = 0; i < 40; ++i) pattern += "*a";
    pattern += "*b";
    const std::string text(100000, 'a');
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(globMatch(pattern, text));
    EXPECT_TRUE(globMatch(pattern, text + "b"));
    EXPECT_FALSE(globMatch("*a?a?a?a?a?a?a?a?a?a?b*", text));
    EXPECT_FALSE(globMatch(std::string(5000, '?') + "*" + std::string(5000, '?') + "b", text));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 1000);
}

}  // namespace
}  // namespace dref
