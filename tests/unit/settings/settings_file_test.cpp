// The settings file syntax (settings_file.h, ARCHITECTURE.md §4).
#include "settings_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace dref {
namespace {

SettingsFile parseOk(std::string_view text) {
    SettingsFile f;
    std::string error;
    EXPECT_TRUE(parseSettingsText(text, "t.conf", &f, &error)) << error;
    return f;
}

std::string parseFails(std::string_view text) {
    SettingsFile f;
    std::string error;
    EXPECT_FALSE(parseSettingsText(text, "t.conf", &f, &error)) << text;
    return error;
}

TEST(SettingsFile, KeyValueLinesWithNumbers) {
    const auto f = parseOk("# comment\n\n  a = 1  \n\tb=two words\n#c = 3\n   # indented comment\n");
    ASSERT_EQ(f.lines.size(), 2u);
    EXPECT_EQ(f.path, "t.conf");
    EXPECT_EQ(f.lines[0].key, "a");
    EXPECT_EQ(f.lines[0].value, "1");
    EXPECT_EQ(f.lines[0].line, 3);
    EXPECT_EQ(f.lines[1].key, "b");
    EXPECT_EQ(f.lines[1].value, "two words");
    EXPECT_EQ(f.lines[1].line, 4);
}

TEST(SettingsFile, QuotedValueKeepsBlanks) {
    const auto f = parseOk("a = \"  padded  \"\nb = \"\"\n");
    ASSERT_EQ(f.lines.size(), 2u);
    EXPECT_EQ(f.lines[0].value, "  padded  ");
    EXPECT_EQ(f.lines[1].value, "");
}

TEST(SettingsFile, EmptyValueHashAndEqualsInValue) {
    const auto f = parseOk("a =\nb = x # not a comment\nc = (a=b)\n");
    ASSERT_EQ(f.lines.size(), 3u);
    EXPECT_EQ(f.lines[0].value, "");
    EXPECT_EQ(f.lines[1].value, "x # not a comment");
    EXPECT_EQ(f.lines[2].value, "(a=b)");
}

TEST(SettingsFile, CrLfAndNoFinalNewline) {
    const auto f = parseOk("a = 1\r\nb = 2");
    ASSERT_EQ(f.lines.size(), 2u);
    EXPECT_EQ(f.lines[0].value, "1");
    EXPECT_EQ(f.lines[1].value, "2");
    EXPECT_EQ(f.lines[1].line, 2);
}

TEST(SettingsFile, ErrorLineWithoutEquals) {
    EXPECT_EQ(parseFails("a = 1\nbogus line\n"), "t.conf:2: bogus: expected \"key = value\"");
}

TEST(SettingsFile, ErrorEmptyKey) {
    EXPECT_EQ(parseFails("= value\n"), "t.conf:1: (empty): empty key");
}

TEST(SettingsFile, ErrorInvalidKeyCharacter) {
    EXPECT_EQ(parseFails("a b = 1\n"), "t.conf:1: a b: invalid character in key");
    EXPECT_NE(parseFails("k\x01y = 1\n").find("\\x01"), std::string::npos);
}

TEST(SettingsFile, ErrorUnterminatedQuote) {
    EXPECT_EQ(parseFails("a = \"open\n"), "t.conf:1: a: unterminated quoted value");
    EXPECT_EQ(parseFails("a = \"\n"), "t.conf:1: a: unterminated quoted value");
    EXPECT_EQ(parseFails("a = \"x\"y\n"), "t.conf:1: a: unterminated quoted value");
}

TEST(SettingsFile, OnlyOuterQuotesRemoved) {
    const auto f = parseOk("a = \"x\"y\"\nb = \"\"starts with a quote\"\nc = in\"side\n");
    ASSERT_EQ(f.lines.size(), 3u);
    EXPECT_EQ(f.lines[0].value, "x\"y");
    EXPECT_EQ(f.lines[1].value, "\"starts with a quote");
    EXPECT_EQ(f.lines[2].value, "in\"side");
}

TEST(SettingsFile, ErrorNulByte) {
    EXPECT_EQ(parseFails(std::string("a = 1\nb = x\0y\n", 14)), "t.conf:2: b: NUL byte in line");
}

TEST(SettingsFile, ErrorOverlongLine) {
    const std::string line = "a = " + std::string(4093, 'x');  // 4097 octets
    EXPECT_EQ(parseFails(line), "t.conf:1: a: line longer than 4096 octets");
    parseOk("a = " + std::string(4092, 'x'));  // exactly 4096
}

TEST(SettingsFile, ErrorInclude) {
    EXPECT_EQ(parseFails("!include other.conf\n"),
              "t.conf:1: !include: directives such as !include are not supported");
}

TEST(SettingsFile, ParseFailureLeavesOutputUntouched) {
    SettingsFile f;
    f.path = "before";
    EXPECT_FALSE(parseSettingsText("a = 1\nbad\n", "t.conf", &f, nullptr));
    EXPECT_EQ(f.path, "before");
    EXPECT_TRUE(f.lines.empty());
}

TEST(SettingsFile, ReadMissingFile) {
    SettingsFile f;
    std::string error;
    EXPECT_FALSE(readSettingsFile("/nonexistent/dovecot-referral.conf.ext", &f, &error));
    EXPECT_EQ(error.rfind("/nonexistent/dovecot-referral.conf.ext: cannot open: ", 0), 0u) << error;
}

TEST(SettingsFile, ReadDirectory) {
    SettingsFile f;
    std::string error;
    EXPECT_FALSE(readSettingsFile("/tmp", &f, &error));
    EXPECT_EQ(error, "/tmp: is a directory");
}

TEST(SettingsFile, ReadRealFile) {
    char name[] = "/tmp/dref-settings-XXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    const std::string text = "# x\nkey = value\n";
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    SettingsFile f;
    std::string error;
    EXPECT_TRUE(readSettingsFile(name, &f, &error)) << error;
    unlink(name);
    ASSERT_EQ(f.lines.size(), 1u);
    EXPECT_EQ(f.path, name);
    EXPECT_EQ(f.lines[0].line, 2);
}

TEST(SettingsFile, ReadErrorNamesFileAndLine) {
    char name[] = "/tmp/dref-settings-XXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    const std::string text = "a = 1\n\nnot a setting\n";
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    SettingsFile f;
    std::string error;
    EXPECT_FALSE(readSettingsFile(name, &f, &error));
    unlink(name);
    EXPECT_EQ(error, std::string(name) + ":3: not: expected \"key = value\"");
}

// A file of `size` octets of comment lines, written to a fresh temporary
// name (returned; the caller unlinks it).
std::string writeCommentFile(size_t size) {
    char name[] = "/tmp/dref-settings-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) return std::string();
    std::string text;
    while (text.size() < size) {
        std::string line = "# " + std::to_string(text.size()) + "\n";
        text += line;
    }
    text.resize(size);
    if (!text.empty()) text.back() = '\n';
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok ? std::string(name) : std::string();
}

TEST(SettingsFile, ReadTextWholeFileAcrossReads) {
    // Larger than the 8 KiB read buffer, not a multiple of it.
    const std::string name = writeCommentFile(3 * 8192 + 17);
    ASSERT_FALSE(name.empty());
    std::string text;
    std::string error;
    EXPECT_TRUE(readSettingsText(name, &text, &error)) << error;
    unlink(name.c_str());
    EXPECT_EQ(text.size(), 3u * 8192 + 17);
    EXPECT_EQ(text.rfind("# 0\n# 4\n", 0), 0u);
}

TEST(SettingsFile, ReadTextAtTheSizeLimit) {
    const std::string name = writeCommentFile(1024 * 1024);
    ASSERT_FALSE(name.empty());
    std::string text;
    std::string error;
    EXPECT_TRUE(readSettingsText(name, &text, &error)) << error;
    EXPECT_EQ(text.size(), 1024u * 1024);
    SettingsFile f;
    EXPECT_TRUE(readSettingsFile(name, &f, &error)) << error;
    unlink(name.c_str());
    EXPECT_TRUE(f.lines.empty());
}

TEST(SettingsFile, ReadTextOverTheSizeLimit) {
    const std::string name = writeCommentFile(1024 * 1024 + 1);
    ASSERT_FALSE(name.empty());
    std::string text = "untouched";
    std::string error;
    EXPECT_FALSE(readSettingsText(name, &text, &error));
    EXPECT_EQ(error, name + ": larger than 1048576 octets");
    EXPECT_EQ(text, "untouched");
    SettingsFile f;
    error.clear();
    EXPECT_FALSE(readSettingsFile(name, &f, &error));
    unlink(name.c_str());
    EXPECT_EQ(error, name + ": larger than 1048576 octets");
}

TEST(SettingsFile, ReadTextErrorsLeaveTextUntouched) {
    std::string text = "untouched";
    std::string error;
    EXPECT_FALSE(readSettingsText("/tmp", &text, &error));
    EXPECT_EQ(error, "/tmp: is a directory");
    EXPECT_EQ(text, "untouched");
    EXPECT_FALSE(readSettingsText("/nonexistent/dovecot-referral.conf.ext", &text, &error));
    EXPECT_EQ(error.rfind("/nonexistent/dovecot-referral.conf.ext: cannot open: ", 0), 0u) << error;
    EXPECT_EQ(text, "untouched");
}

}  // namespace
}  // namespace dref
