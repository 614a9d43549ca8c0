// resp-text after "]" (R3501-2, R3501-4) and log quoting.
#include "response_text.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

TEST(ResponseText, KeepsPlainText) {
    EXPECT_EQ(sanitizeResponseText("Remote mailbox. Try SERVER2", "x"), "Remote mailbox. Try SERVER2");
}

TEST(ResponseText, ReplacesCrLfAndControls_R3501_4) {
    EXPECT_EQ(sanitizeResponseText("a\r\nb\0c\x7f" "d", "x"), "a??b");  // stops at the NUL literal
    EXPECT_EQ(sanitizeResponseText(std::string("a\r\nb\0c\x7f" "d", 8), "x"), "a??b?c?d");
    EXPECT_EQ(sanitizeResponseText("\t\x1b[31m", "x"), "??[31m");
}

// referral_text on the wire, the same for the referral passdb and the login
// plugin: a text the settings file accepts as it is (less trailing
// spaces), anything else made wire-safe, never empty.
TEST(ResponseText, WireReferralText_R3501_2) {
    EXPECT_EQ(wireReferralText("Your mailbox is on another server."),
              "Your mailbox is on another server.");
    EXPECT_EQ(wireReferralText("Moved  "), "Moved");
    EXPECT_EQ(wireReferralText("Use home1\r\n]x"), "Use home1??]x");
    EXPECT_EQ(wireReferralText(" caf\xc3\xa9"), "caf??");
    EXPECT_EQ(wireReferralText(""), "Try this server instead.");
    EXPECT_EQ(wireReferralText("   "), "Try this server instead.");
    EXPECT_EQ(wireReferralText(std::string(300, 'a')), std::string(200, 'a'));
}

TEST(ResponseText, Replaces8BitOctets_R3501_4) {
    EXPECT_EQ(sanitizeResponseText("Entw\xC3\xBCrfe", "x"), "Entw??rfe");
}

TEST(ResponseText, NeverEmpty_R3501_2) {
    EXPECT_EQ(sanitizeResponseText("", "Remote mailbox."), "Remote mailbox.");
    EXPECT_EQ(sanitizeResponseText("   ", "Remote mailbox."), "Remote mailbox.");
    EXPECT_EQ(sanitizeResponseText("", ""), "Failed.");
    EXPECT_EQ(sanitizeResponseText("", "\r\n"), "??");
    EXPECT_EQ(sanitizeResponseText("", " "), "Failed.");
}

TEST(ResponseText, TrimsBlanks) {
    EXPECT_EQ(sanitizeResponseText("  text  ", "x"), "text");
}

TEST(ResponseText, CutsAtMaxLen) {
    EXPECT_EQ(sanitizeResponseText(std::string(500, 'a'), "x").size(), 200u);
    EXPECT_EQ(sanitizeResponseText("abcdef", "x", 3), "abc");
    EXPECT_EQ(sanitizeResponseText("abcdef", "x", 0), "a");
}

TEST(ResponseText, WireSafe) {
    EXPECT_TRUE(isWireSafeText("Your mailbox is on another server."));
    EXPECT_TRUE(isWireSafeText("a]b"));  // after the code, ']' is plain TEXT-CHAR
    EXPECT_FALSE(isWireSafeText(""));
    EXPECT_FALSE(isWireSafeText("a\r\nb"));
    EXPECT_FALSE(isWireSafeText("a\tb"));
    EXPECT_FALSE(isWireSafeText(std::string("a\0b", 3)));
    EXPECT_FALSE(isWireSafeText("Entw\xC3\xBCrfe"));
    EXPECT_FALSE(isWireSafeText("[ALERT] x"));
    EXPECT_FALSE(isWireSafeText(" leading"));
    EXPECT_TRUE(isWireSafeText(std::string(200, 'a')));
    EXPECT_FALSE(isWireSafeText(std::string(201, 'a')));
}

TEST(QuoteForLog, EscapesEverythingUnprintable) {
    EXPECT_EQ(quoteForLog("plain text"), "plain text");
    EXPECT_EQ(quoteForLog(std::string("a\r\n\0\x7f\xff", 6)), "a\\x0D\\x0A\\x00\\x7F\\xFF");
}

// A log item's value: as quoteForLog, and the octets that would end the
// item or fake an escape too.
TEST(AppendLogItemValue, EscapesItemDelimitersAndBackslash) {
    std::string out = "user=<";
    appendLogItemValue(&out, std::string("a>, b=<c\\x41\r\xff", 14), 100);
    EXPECT_EQ(out, "user=<a\\x3E\\x2C b=\\x3Cc\\x5Cx41\\x0D\\xFF");
    out.clear();
    appendLogItemValue(&out, "abcde", 4);
    EXPECT_EQ(out, "abcd...");
    // Kept runs around escaped octets, and the cut inside a run.
    out.clear();
    appendLogItemValue(&out, ",ab<<cd>", 100);
    EXPECT_EQ(out, "\\x2Cab\\x3C\\x3Ccd\\x3E");
    out.clear();
    appendLogItemValue(&out, "a,bcdef", 4);
    EXPECT_EQ(out, "a\\x2Cbc...");
}

// The buffer form of sanitizeResponseText(): same result, whatever the
// buffer held before.
TEST(SanitizeResponseText, AssignFormMatches) {
    std::string out = "an old text";
    for (const char* text : {"Go there.", "  \r\n ", "", " a\x01b ", "xyz"}) {
        assignSanitizedResponseText(&out, text, "Fallback.", 2);
        EXPECT_EQ(out, sanitizeResponseText(text, "Fallback.", 2)) << text;
        assignSanitizedResponseText(&out, text, "   ");
        EXPECT_EQ(out, sanitizeResponseText(text, "   ")) << text;
    }
}

TEST(QuoteForLog, Cuts) {
    EXPECT_EQ(quoteForLog(std::string(150, 'a')), std::string(100, 'a') + "...");
    EXPECT_EQ(quoteForLog("abcd", 4), "abcd");
    EXPECT_EQ(quoteForLog("abcde", 4), "abcd...");
    EXPECT_EQ(quoteForLog("abc", 0), "...");
}

}  // namespace
}  // namespace dref

// A CR LF in a text written into a tagged reply ends the reply early.
TEST(ResponseTextTest, ControlOctetsAreFound) {
    EXPECT_FALSE(dref::containsControlOctet(""));
    EXPECT_FALSE(dref::containsControlOctet("Mailbox doesn't exist: Shared/B\xC3\xBCro"));
    for (const char* text : {"a\rb", "a\nb", "\x1b" "FAKE", "x\x7f", "tab\there"})
        EXPECT_TRUE(dref::containsControlOctet(text)) << text;
    EXPECT_TRUE(dref::containsControlOctet(std::string_view("a\0b", 3)));
}
