// The mailbox cache file codec (remote_mailbox_cache_encoder.h and
// remote_mailbox_cache_decoder.h): what the imap plugin keeps of a directory
// answer between sessions.  The file is untrusted: every test below that
// damages it expects a clean refusal, never a table (R2193-3 and the
// directory validation rules of R2193-8/-9 apply to cached values exactly as
// to directory values).
#include "remote_mailbox_cache_decoder.h"
#include "remote_mailbox_cache_encoder.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

const char kUser[] = "alice@example.test";

ImapUrlParts loc(std::string host, std::optional<std::string> mailbox = std::nullopt,
                 std::string user = "", std::string auth = "", uint16_t port = 143) {
    ImapUrlParts p;
    p.host = std::move(host);
    p.mailbox = std::move(mailbox);
    p.user = std::move(user);
    p.auth = std::move(auth);
    p.port = port;
    return p;
}

RemoteMailbox mbox(std::string name, std::vector<ImapUrlParts> locations, bool personal = false,
                   std::string dn = "") {
    RemoteMailbox m;
    m.name = std::move(name);
    m.locations = std::move(locations);
    m.personal = personal;
    m.dn = dn.empty() ? "cn=" + m.name + ",ou=mailboxes,dc=example,dc=test" : std::move(dn);
    return m;
}

DirectorySettings dirSettings() {
    DirectorySettings d;
    d.uris = {"ldap://127.0.0.1"};
    d.userBase = "ou=people,dc=example,dc=test";
    d.mailboxSharedBase = "ou=mailboxes,dc=example,dc=test";
    return d;
}

MailboxCacheRecord sample() {
    MailboxCacheRecord r;
    r.user = kUser;
    r.identity = mailboxCacheIdentity(dirSettings());
    r.mailboxes.push_back(mbox("Archive/2019", {loc("home1.lab.test", "Archive/2019")}, true,
                               "cn=Archive 2019,uid=alice,ou=people,dc=example,dc=test"));
    r.mailboxes.push_back(
        mbox("Shared/Büro", {loc("home2.lab.test", "Büro", "", "*", 10143), loc("10.0.0.7")}));
    r.mailboxes.push_back(mbox("Team", {loc("h.example", "Team;x 100%", "bob@x", "PLAIN")}));
    r.mailboxes.back().locations[0].uidValidity = 77;
    r.mailboxes.push_back(mbox("Anon", {loc("h.example", std::nullopt, "", "")}));
    return r;
}

std::string encoded(const MailboxCacheRecord& r) {
    std::string error;
    auto bytes = encodeMailboxCache(r, MailboxCacheLimits{}, &error);
    EXPECT_TRUE(bytes) << error;
    return bytes ? *bytes : std::string();
}

std::string decodeError(const std::string& bytes, bool* mismatch = nullptr,
                        MailboxCacheLimits limits = {}) {
    std::string error;
    auto rec = decodeMailboxCache(bytes, kUser, mailboxCacheIdentity(dirSettings()), limits,
                                  &error, mismatch);
    EXPECT_FALSE(rec) << "accepted: " << bytes;
    EXPECT_FALSE(error.empty());
    for (char c : error) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << error;
    return error;
}

// Re-seals a body altered on purpose, so the test reaches the check behind
// the checksum (as a writer of planted files could).
std::string reseal(std::string bytes) {
    const std::string body = bytes.substr(0, bytes.rfind("end "));
    return body + "end " + mailboxCacheChecksum(body) + "\n";
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

TEST(MailboxCacheFile, RoundTripKeepsEveryField_R2193_8) {
    const MailboxCacheRecord in = sample();
    std::string error;
    auto out = decodeMailboxCache(encoded(in), kUser, in.identity, {}, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_EQ(out->user, in.user);
    EXPECT_EQ(out->answer, CachedAnswer::Found);
    ASSERT_EQ(out->mailboxes.size(), in.mailboxes.size());
    for (size_t i = 0; i < in.mailboxes.size(); ++i) {
        const RemoteMailbox& a = in.mailboxes[i];
        const RemoteMailbox& b = out->mailboxes[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.dn, b.dn);
        EXPECT_EQ(a.personal, b.personal);
        ASSERT_EQ(a.locations.size(), b.locations.size());  // R2193-9: order kept
        for (size_t j = 0; j < a.locations.size(); ++j) {
            EXPECT_EQ(a.locations[j].user, b.locations[j].user);
            EXPECT_EQ(a.locations[j].auth, b.locations[j].auth);
            EXPECT_EQ(a.locations[j].host, b.locations[j].host);
            EXPECT_EQ(a.locations[j].port, b.locations[j].port);
            EXPECT_EQ(a.locations[j].mailbox, b.locations[j].mailbox);
            EXPECT_EQ(a.locations[j].uidValidity, b.locations[j].uidValidity);
        }
    }
}

TEST(MailboxCacheFile, EmptyAndNotFoundAnswersRoundTrip) {
    MailboxCacheRecord r = sample();
    r.mailboxes.clear();
    std::string error;
    auto out = decodeMailboxCache(encoded(r), kUser, r.identity, {}, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_EQ(out->answer, CachedAnswer::Found);
    EXPECT_TRUE(out->mailboxes.empty());
    r.answer = CachedAnswer::NotFound;
    out = decodeMailboxCache(encoded(r), kUser, r.identity, {}, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_EQ(out->answer, CachedAnswer::NotFound);
}

TEST(MailboxCacheFile, FileIsPrintableAsciiLines) {
    MailboxCacheRecord r = sample();
    r.user = "ü ser\r\n%";
    for (char c : encoded(r)) {
        const auto u = static_cast<unsigned char>(c);
        EXPECT_TRUE(c == '\n' || (u >= 0x20 && u < 0x7f)) << static_cast<int>(u);
    }
}

TEST(MailboxCacheFile, EveryTruncationRefused) {
    const std::string bytes = encoded(sample());
    for (size_t n = 0; n < bytes.size(); ++n) decodeError(bytes.substr(0, n));
}

TEST(MailboxCacheFile, FlippedByteRefusedByChecksum) {
    const std::string bytes = encoded(sample());
    for (size_t i = 0; i < bytes.size() - 22; i += 7) {
        std::string b = bytes;
        b[i] = b[i] == 'x' ? 'y' : 'x';
        decodeError(b);
    }
}

TEST(MailboxCacheFile, BadMagicAndVersionRefused) {
    const std::string bytes = encoded(sample());
    EXPECT_NE(decodeError(reseal(replaced(bytes, "dovecot-referral-mailbox-cache", "dovecot-x")))
                  .find("line 1"),
              std::string::npos);
    EXPECT_NE(decodeError(reseal(replaced(bytes, "cache 1\n", "cache 2\n"))).find("version"),
              std::string::npos);
}

TEST(MailboxCacheFile, OtherUserIsAMismatchNotATable) {
    MailboxCacheRecord r = sample();
    r.user = "bob@example.test";
    bool mismatch = false;
    EXPECT_EQ(decodeError(encoded(r), &mismatch), "the file is for another user");
    EXPECT_TRUE(mismatch);
    // A prefix of the name is another user too.
    r.user = "alice@example.tes";
    decodeError(encoded(r), &mismatch);
    EXPECT_TRUE(mismatch);
}

TEST(MailboxCacheFile, OtherSettingsIdentityIsAMismatch) {
    MailboxCacheRecord r = sample();
    DirectorySettings d = dirSettings();
    d.mailboxFilter = "(objectClass=somethingElse)";
    r.identity = mailboxCacheIdentity(d);
    EXPECT_NE(r.identity, mailboxCacheIdentity(dirSettings()));
    bool mismatch = false;
    decodeError(encoded(r), &mismatch);
    EXPECT_TRUE(mismatch);
}

TEST(MailboxCacheFile, IdentityFollowsEveryLookupSetting) {
    const std::string base = mailboxCacheIdentity(dirSettings());
    auto differs = [&base](void (*change)(DirectorySettings&)) {
        DirectorySettings d = dirSettings();
        change(d);
        return mailboxCacheIdentity(d) != base;
    };
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.uris = {"ldap://127.0.0.2"}; }));
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.userBase = "dc=other"; }));
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.userFilter = "(uid=%u)"; }));
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.mailboxSharedBase = ""; }));
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.mailboxNameAttribute = "cn"; }));
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.mailboxUrlAttribute = "labeledURI"; }));
    EXPECT_TRUE(differs([](DirectorySettings& d) { d.mailboxMaxEntries = 5; }));
    EXPECT_FALSE(differs([](DirectorySettings& d) { d.cacheTtlMs = 1; }));
    EXPECT_EQ(base.size(), 16u);
}

TEST(MailboxCacheFile, FileNameIsHexOfTheUser) {
    const std::string a = mailboxCacheFileName("alice");
    EXPECT_EQ(a.size(), 16u + std::string(".mailboxes").size());
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), 16u);
    EXPECT_NE(a, mailboxCacheFileName("alicf"));
    EXPECT_EQ(mailboxCacheFileName("../../etc/passwd").find('/'), std::string::npos);
}

TEST(MailboxCacheFile, OversizeCountRefusedBeforeReading) {
    const std::string bytes = encoded(sample());
    EXPECT_NE(decodeError(reseal(replaced(bytes, "entries 4\n", "entries 4000000000\n")))
                  .find("entry count"),
              std::string::npos);
    EXPECT_NE(decodeError(reseal(replaced(bytes, "entries 4\n", "entries 100000\n")))
                  .find("larger than the file"),
              std::string::npos);
    MailboxCacheLimits small;
    small.maxEntries = 3;
    decodeError(bytes, nullptr, small);
    std::string error;
    EXPECT_FALSE(encodeMailboxCache(sample(), small, &error));
}

TEST(MailboxCacheFile, CountsMustMatchTheLines) {
    const std::string bytes = encoded(sample());
    decodeError(reseal(replaced(bytes, "entries 4\n", "entries 3\n")));
    decodeError(reseal(replaced(bytes, "entries 4\n", "entries 5\n")));
    decodeError(reseal(replaced(bytes, "entries 4\n", "entries 04\n")));
    decodeError(reseal(replaced(bytes, "entries 4\n", "entries -1\n")));
    decodeError(reseal(replaced(bytes, "people,dc=example,dc=test 1\n", "people,dc=example,dc=test 2\n")));
    decodeError(reseal(replaced(bytes, "people,dc=example,dc=test 1\n", "people,dc=example,dc=test 0\n")));
    decodeError(reseal(replaced(bytes, "people,dc=example,dc=test 1\n", "people,dc=example,dc=test 65\n")));
}

TEST(MailboxCacheFile, NotFoundWithEntriesRefused) {
    decodeError(reseal(replaced(encoded(sample()), "answer found", "answer not-found")));
    decodeError(reseal(replaced(encoded(sample()), "answer found", "answer maybe")));
}

TEST(MailboxCacheFile, BadUrlRefused_R5092) {
    const std::string bytes = encoded(sample());
    const std::string good = "url imap://home1.lab.test/Archive/2019\n";
    for (const std::string& bad : std::vector<std::string>{"url http://home1.lab.test/Archive\n", "url imap://[::1]/Archive\n",
          "url imap://home1.lab.test/Archive;UID=4\n", "url imap://-bad-.test/x\n",
          "url imap://home1.lab.test:0/x\n", "url imap://home1.lab.test/%00x\n",
          "url imap://home1.lab.test/a%0D%0Ab\n", "url imap://h/" + std::string(2100, 'a') + "\n",
          "url imap://home1.lab.test/a%C2%85b\n",  // C1 control (NEL), as entry_mapping refuses
          "url imap://home1.lab.test/" + std::string(1025, 'a') + "\n",
          "url /Archive\n"}) {
        std::string b = reseal(replaced(bytes, good, bad));
        EXPECT_NE(decodeError(b).find("URL rejected"), std::string::npos) << bad;
    }
}

TEST(MailboxCacheFile, CrLfAndControlsRefused_R3501) {
    const std::string bytes = encoded(sample());
    decodeError(replaced(bytes, "\n", "\r\n"));
    decodeError(reseal(replaced(bytes, "\n", "\r\n")));
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch\tive ")));
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch\xc3\xa9 ")));
    // Percent-encoded controls and broken UTF-8 in names and DNs.
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch%0Aive ")));
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch%C2%85ive ")));
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch%FFive ")));
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch%4 ")));
    decodeError(reseal(replaced(bytes, "Archive/2019 ", "Arch% ")));
    decodeError(reseal(replaced(bytes, "cn=Archive%202019", "cn=%7F")));
}

// The octet check reads eight octets at a time: every octet value, in every
// position of a word and in the tail after the last whole word, is refused
// exactly when it is a control other than LF, DEL or 8-bit, at its offset.
TEST(MailboxCacheFile, EveryForbiddenOctetFoundAtItsOffset) {
    const std::string good = encoded(sample());
    const size_t mid = good.find("mailbox ");
    ASSERT_NE(mid, std::string::npos);
    std::vector<size_t> offsets;
    for (size_t k = 0; k < 16; ++k) offsets.push_back(mid + k);
    for (size_t k = 1; k <= 9; ++k) offsets.push_back(good.size() - k);
    for (size_t at : offsets) {
        for (int v = 0; v < 256; ++v) {
            std::string bytes = good;
            bytes[at] = static_cast<char>(v);
            const bool forbidden = (v < 0x20 && v != '\n') || v >= 0x7f;
            std::string error;
            auto out = decodeMailboxCache(bytes, kUser, sample().identity, {}, &error);
            const std::string expected = "control or 8-bit octet at offset " + std::to_string(at);
            if (forbidden) {
                EXPECT_FALSE(out) << at << " " << v;
                EXPECT_EQ(error, expected) << at << " " << v;
            } else {
                EXPECT_NE(error, expected) << at << " " << v;
            }
        }
    }
}

TEST(MailboxCacheFile, MalformedLinesRefused) {
    const std::string bytes = encoded(sample());
    decodeError(reseal(replaced(bytes, "mailbox personal ", "mailbox private ")));
    decodeError(reseal(replaced(bytes, "mailbox personal ", "mailbox  personal ")));
    decodeError(reseal(replaced(bytes, "mailbox personal Archive/2019 ", "mailbox personal ")));
    decodeError(reseal(replaced(bytes, "Archive/2019 cn=", " cn=")));
    decodeError(reseal(replaced(bytes, "user alice", "User alice")));
    decodeError(reseal(replaced(bytes, "url imap://h.example/\n", "url imap://h.example/\nurl imap://h.example/\n")));
    decodeError(bytes + "x");
    decodeError(replaced(bytes, "end ", "end  "));
}

TEST(MailboxCacheFile, OversizeFileRefused) {
    MailboxCacheLimits small;
    small.maxBytes = 100;
    EXPECT_NE(decodeError(encoded(sample()), nullptr, small).find("exceeds the limit"),
              std::string::npos);
    std::string error;
    EXPECT_FALSE(encodeMailboxCache(sample(), small, &error));
    EXPECT_NE(error.find("exceeds the limit"), std::string::npos);
}

TEST(MailboxCacheFile, EncodeRefusesWhatDecodeWouldRefuse) {
    std::string error;
    MailboxCacheRecord r = sample();
    r.mailboxes[0].name = "bad\nname";
    EXPECT_FALSE(encodeMailboxCache(r, {}, &error));
    r = sample();
    r.mailboxes[0].locations.clear();
    EXPECT_FALSE(encodeMailboxCache(r, {}, &error));
    r = sample();
    r.mailboxes[0].locations[0].host = "::1";
    EXPECT_FALSE(encodeMailboxCache(r, {}, &error));
    r = sample();
    r.mailboxes[0].dn.clear();
    EXPECT_FALSE(encodeMailboxCache(r, {}, &error));
    r = sample();
    r.answer = CachedAnswer::NotFound;
    EXPECT_FALSE(encodeMailboxCache(r, {}, &error));
    r = sample();
    r.identity = "xyz";
    EXPECT_FALSE(encodeMailboxCache(r, {}, &error));
}

// The referral-directory service encodes entry by entry on its LDAP thread
// (appendMailboxCacheEntry) and seals at the end (assembleMailboxCache):
// the same bytes as encodeMailboxCache, and the same refusals.
TEST(MailboxCacheFile, EntryByEntryEncodingIsTheSameFile) {
    const MailboxCacheRecord r = sample();
    std::string lines, error;
    for (const RemoteMailbox& m : r.mailboxes) ASSERT_TRUE(appendMailboxCacheEntry(m, &lines, &error)) << error;
    auto whole = assembleMailboxCache(r.user, r.identity, r.answer, r.mailboxes.size(), lines, {},
                                      &error);
    ASSERT_TRUE(whole) << error;
    EXPECT_EQ(*whole, encoded(r));
    auto empty = assembleMailboxCache(kUser, r.identity, CachedAnswer::NotFound, 0, "", {}, &error);
    ASSERT_TRUE(empty) << error;
    MailboxCacheRecord none = sample();
    none.answer = CachedAnswer::NotFound;
    none.mailboxes.clear();
    EXPECT_EQ(*empty, encoded(none));
}

TEST(MailboxCacheFile, RefusedEntryAppendsNothingAndSaysWhatTheWholeEncoderSays) {
    for (int variant = 0; variant < 4; ++variant) {
        MailboxCacheRecord r = sample();
        RemoteMailbox& m = r.mailboxes[1];
        if (variant == 0) m.name = "bad\nname";
        if (variant == 1) m.dn.clear();
        if (variant == 2) m.locations.clear();
        if (variant == 3) m.locations[1].host = "::1";  // after a first good location
        std::string lines = "kept\n", error, wholeError;
        EXPECT_FALSE(appendMailboxCacheEntry(m, &lines, &error)) << variant;
        EXPECT_EQ(lines, "kept\n") << variant;
        EXPECT_FALSE(encodeMailboxCache(r, {}, &wholeError)) << variant;
        EXPECT_EQ(error, wholeError) << variant;
    }
    std::string error;
    const MailboxCacheRecord r = sample();
    EXPECT_FALSE(assembleMailboxCache(r.user, "xyz", r.answer, 0, "", {}, &error));
    EXPECT_FALSE(assembleMailboxCache("", r.identity, r.answer, 0, "", {}, &error));
    EXPECT_FALSE(assembleMailboxCache(r.user, r.identity, CachedAnswer::NotFound, 1, "", {}, &error));
    MailboxCacheLimits few;
    few.maxEntries = 1;
    EXPECT_FALSE(assembleMailboxCache(r.user, r.identity, r.answer, 2, "", few, &error));
    MailboxCacheLimits small;
    small.maxBytes = 64;
    EXPECT_FALSE(assembleMailboxCache(r.user, r.identity, r.answer, 0, std::string(100, 'x'),
                                      small, &error));
    EXPECT_NE(error.find("exceeds the limit"), std::string::npos);
}

// The url lines appendMailboxCacheEntry writes for `m` (no source texts).
std::vector<std::string> urlLines(const RemoteMailbox& m) {
    std::string lines, error;
    EXPECT_TRUE(appendMailboxCacheEntry(m, &lines, &error)) << error;
    std::vector<std::string> urls;
    for (size_t at = 0; (at = lines.find("\nurl ", at)) != std::string::npos; ++at)
        urls.push_back(lines.substr(at + 5, lines.find('\n', at + 1) - at - 5));
    return urls;
}

// With the locations' source texts (the directory mapping parsed each
// location from one): the same bytes and the same refusals as without; a
// location is not parsed again only when its line is its own source text.
TEST(MailboxCacheFile, SourceUrlsChangeNoByteAndSpareOnlyTheParseOfTheirOwnText) {
    for (const RemoteMailbox& m : sample().mailboxes) {
        const std::vector<std::string> urls = urlLines(m);
        ASSERT_EQ(urls.size(), m.locations.size());
        const std::vector<std::string_view> sources(urls.begin(), urls.end());
        std::string plain, withSources, error;
        ASSERT_TRUE(appendMailboxCacheEntry(m, &plain, &error)) << error;
        ASSERT_TRUE(appendMailboxCacheEntry(m, sources, &withSources, &error)) << error;
        EXPECT_EQ(withSources, plain);
    }
    // A location that does not survive the round trip, with source texts
    // other than its line ("imap://::1/..." is what locationUrl writes for
    // it): parsed again, refused as without them, nothing appended.
    RemoteMailbox bad = sample().mailboxes[1];
    bad.locations[1].host = "::1";
    const std::vector<std::string_view> others = {"imap://home2.lab.test:10143/B%C3%BCro",
                                                  "imap://10.0.0.7/"};
    std::string lines = "kept\n", error, plainError, ignored;
    EXPECT_FALSE(appendMailboxCacheEntry(bad, others, &lines, &error));
    EXPECT_EQ(lines, "kept\n");
    EXPECT_FALSE(appendMailboxCacheEntry(bad, &ignored, &plainError));
    EXPECT_EQ(error, plainError);
    EXPECT_NE(error.find("round trip"), std::string::npos);
    // Its own line as its source text: the caller says it parsed that
    // location from this text, and the encoder does not parse it again.
    const std::vector<std::string_view> ownText = {others[0], "imap://::1/"};
    EXPECT_TRUE(appendMailboxCacheEntry(bad, ownText, &lines, &error)) << error;
    EXPECT_NE(lines.find("\nurl imap://::1/\n"), std::string::npos);
}

TEST(MailboxCacheFile, ThousandEntriesRoundTrip) {
    MailboxCacheRecord r = sample();
    r.mailboxes.clear();
    for (int i = 0; i < 1000; ++i)
        r.mailboxes.push_back(mbox("Remote/Box" + std::to_string(i),
                                   {loc("home1.lab.test", "Box" + std::to_string(i))}));
    std::string error;
    auto out = decodeMailboxCache(encoded(r), kUser, r.identity, {}, &error);
    ASSERT_TRUE(out) << error;
    EXPECT_EQ(out->mailboxes.size(), 1000u);
    EXPECT_EQ(out->mailboxes[999].name, "Remote/Box999");
}

}  // namespace
}  // namespace dref
