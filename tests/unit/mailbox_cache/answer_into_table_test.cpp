// A directory answer decoded straight into the remote mailbox table
// (decodeMailboxCacheInto + RemoteMailboxTable::Builder), as the imap
// process takes the referral-directory service's answer since issue 13 item
// 4: the same table, the same warnings and the same refusals as decoding
// into a list and building the table from it.  The answer is untrusted:
// hostile values must be skipped or refused exactly as on the list's way.
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "remote_mailbox_cache_decoder.h"
#include "remote_mailbox_cache_encoder.h"
#include "remote_mailbox_table.h"

namespace dref {
namespace {

const char kUser[] = "alice@example.test";

ImapUrlParts loc(std::string host, std::optional<std::string> mailbox = std::nullopt,
                 uint16_t port = 143, std::string user = "", std::string auth = "") {
    ImapUrlParts p;
    p.host = std::move(host);
    p.mailbox = std::move(mailbox);
    p.port = port;
    p.user = std::move(user);
    p.auth = std::move(auth);
    return p;
}

RemoteMailbox mbox(std::string name, std::vector<ImapUrlParts> locations, bool personal,
                   std::string dn) {
    RemoteMailbox m;
    m.name = std::move(name);
    m.locations = std::move(locations);
    m.personal = personal;
    m.dn = std::move(dn);
    return m;
}

std::string identity() {
    DirectorySettings d;
    d.uris = {"ldap://127.0.0.1"};
    d.userBase = "ou=people,dc=example,dc=test";
    return mailboxCacheIdentity(d);
}

// An answer with something for every branch of the build: entries out of
// order, a duplicate name (personal beats shared, then the smaller DN), a
// location on this server, a host outside allowed_hosts, an entry left
// without locations, an INBOX spelled in lower case, a name holding the
// '.' separator, a mailbox part other than the name, UIDVALIDITY, several
// servers and a server named again after another.
MailboxCacheRecord hostileAnswer() {
    MailboxCacheRecord r;
    r.user = kUser;
    r.identity = identity();
    r.mailboxes = {
        mbox("Zeta/one", {loc("home1.test", "Zeta/one")}, true, "cn=z1,uid=alice"),
        mbox("Archive", {loc("home2.test", "Elsewhere", 10143, "bob", "PLAIN")}, true,
             "cn=a,uid=alice"),
        mbox("Archive", {loc("home1.test", "Archive")}, false, "cn=a,ou=shared"),
        mbox("Shared/x", {loc("front.test", "Shared/x"), loc("home1.test")}, false,
             "cn=b,ou=shared"),
        mbox("Shared/y", {loc("front.test", "Shared/y")}, false, "cn=c,ou=shared"),
        mbox("Evil/z", {loc("evil.example", "Evil/z")}, false, "cn=d,ou=shared"),
        mbox("inbox/Sub", {loc("home2.test", "inbox/Sub", 10143, "bob", "PLAIN")}, true,
             "cn=e,uid=alice"),
        mbox("Dotted.name", {loc("home1.test", "Dotted.name")}, true, "cn=f,uid=alice"),
        mbox("Dup", {loc("home1.test", "Dup")}, false, "cn=zz,ou=shared"),
        mbox("Dup", {loc("home1.test", "Dup")}, false, "cn=aa,ou=shared"),
        mbox("Alpha", {loc("home1.test", "Alpha")}, true, "cn=g,uid=alice"),
    };
    r.mailboxes.back().locations[0].uidValidity = 42;
    return r;
}

const std::vector<std::string> kLocal = {"front.test"};
const std::vector<std::string> kAllowed = {"home1.test", "home2.test"};

std::string encodedAnswer(const MailboxCacheRecord& r) {
    std::string error;
    auto bytes = encodeMailboxCache(r, MailboxCacheLimits{}, &error);
    EXPECT_TRUE(bytes) << error;
    return bytes ? *bytes : std::string();
}

// Everything a table answers, entry by entry.
std::vector<std::string> describeTable(const RemoteMailboxTable& t) {
    std::vector<std::string> out;
    for (RemoteMailboxEntry e : t.entries()) {
        std::string line = std::string(e.vname()) + "|" + e.directoryName() + "|" +
                           (e.personal() ? "p" : "s");
        for (const ImapUrlParts& l : e.locations())
            line += "|" + l.user + ";" + l.auth + "@" + l.host + ":" + std::to_string(l.port) +
                    "/" + l.mailbox.value_or("-") + ";" +
                    (l.uidValidity ? std::to_string(*l.uidValidity) : "-");
        out.push_back(line);
    }
    return out;
}

struct IntoTable {
    std::optional<MailboxCacheRecord> record;
    std::string error;
    std::vector<std::string> warnings;
    std::optional<RemoteMailboxTable> table;
};

IntoTable decodeIntoTable(const std::string& bytes, char sep) {
    IntoTable out;
    RemoteMailboxTable::Builder builder(sep, kLocal, kAllowed, &out.warnings);
    out.record = decodeMailboxCacheInto(bytes, kUser, identity(), MailboxCacheLimits{}, &builder,
                                        &out.error);
    if (out.record) out.table.emplace(builder.finish());
    return out;
}

TEST(AnswerIntoTable, SameTableAndWarningsAsThroughTheList_R2193_3) {
    const std::string bytes = encodedAnswer(hostileAnswer());
    for (char sep : {'/', '.'}) {
        std::string error;
        auto rec = decodeMailboxCache(bytes, kUser, identity(), MailboxCacheLimits{}, &error);
        ASSERT_TRUE(rec) << error;
        std::vector<std::string> listWarnings;
        const RemoteMailboxTable viaList =
            RemoteMailboxTable::build(rec->mailboxes, sep, kLocal, kAllowed, &listWarnings);

        IntoTable direct = decodeIntoTable(bytes, sep);
        ASSERT_TRUE(direct.record) << direct.error;
        EXPECT_TRUE(direct.record->mailboxes.empty());
        EXPECT_EQ(direct.record->answer, CachedAnswer::Found);
        EXPECT_EQ(describeTable(*direct.table), describeTable(viaList)) << sep;
        EXPECT_EQ(direct.warnings, listWarnings) << sep;
        EXPECT_EQ(direct.table->memoryBytes(), viaList.memoryBytes()) << sep;
        // The answer's hostile parts are really in it: skipped entries and
        // locations, and one of the duplicates.
        EXPECT_GE(listWarnings.size(), 5u);
        EXPECT_FALSE(direct.table->find(sep == '/' ? "Shared/y" : "Shared.y"));
        EXPECT_FALSE(direct.table->find(sep == '/' ? "Evil/z" : "Evil.z"));
        auto dup = direct.table->find("Dup");
        ASSERT_TRUE(dup);
        EXPECT_EQ(dup->entry.locationCount(), 1u);
    }
}

TEST(AnswerIntoTable, RefusesWhatTheListDecoderRefusesWithTheSameReason) {
    const std::string good = encodedAnswer(hostileAnswer());
    // A damaged URL after some entries were taken, a truncation, a flipped
    // byte, an over-long name: each a refusal, never a table.
    std::vector<std::string> bad;
    {
        std::string b = good;
        const std::string from = "url imap://home1.test/Alpha;UIDVALIDITY=42\n";
        const size_t at = b.find(from);
        ASSERT_NE(at, std::string::npos);
        b.replace(at, from.size(), "url imap://[::1]/Alpha\n");
        const std::string body = b.substr(0, b.rfind("end "));
        bad.push_back(body + "end " + mailboxCacheChecksum(body) + "\n");
    }
    bad.push_back(good.substr(0, good.size() / 2));
    {
        std::string b = good;
        b[b.size() / 3] ^= 1;
        bad.push_back(b);
    }
    for (const std::string& b : bad) {
        std::string listError;
        EXPECT_FALSE(decodeMailboxCache(b, kUser, identity(), MailboxCacheLimits{}, &listError));
        IntoTable direct = decodeIntoTable(b, '/');
        EXPECT_FALSE(direct.record);
        EXPECT_FALSE(direct.table);
        EXPECT_EQ(direct.error, listError);
        EXPECT_FALSE(direct.error.empty());
    }
}

// A sink that writes down what it is given, and can fail at the n-th entry.
class RecordingSink final : public RemoteMailboxSink {
public:
    explicit RecordingSink(size_t throwAt = 0) : throwAt_(throwAt) {}
    void reserve(size_t entries) override { reserved.push_back(entries); }
    void add(const RemoteMailboxView& m) override {
        if (seen.size() + 1 == throwAt_)
            throw std::length_error("remote mailbox table larger than 4 GiB");
        seen.push_back(std::string(m.name) + "|" + std::string(m.dn) + "|" +
                       (m.personal ? "p" : "s") + "|" + std::to_string(m.locationCount));
    }
    std::vector<size_t> reserved;
    std::vector<std::string> seen;

private:
    size_t throwAt_;
};

TEST(AnswerIntoTable, ASinkThatThrowsRefusesTheAnswer) {
    const std::string bytes = encodedAnswer(hostileAnswer());
    std::string error;
    RecordingSink sink(3);
    auto rec = decodeMailboxCacheInto(bytes, kUser, identity(), MailboxCacheLimits{}, &sink,
                                      &error);
    EXPECT_FALSE(rec);
    EXPECT_EQ(sink.seen.size(), 2u);
    EXPECT_NE(error.find("larger than 4 GiB"), std::string::npos) << error;
}

// Out of memory in the sink is the refusal the list decoder gives for it.
TEST(AnswerIntoTable, ASinkOutOfMemoryRefusesTheAnswerAsOutOfMemory) {
    class OutOfMemorySink final : public RemoteMailboxSink {
    public:
        void reserve(size_t) override {}
        void add(const RemoteMailboxView&) override { throw std::bad_alloc(); }
    } sink;
    std::string error;
    EXPECT_FALSE(decodeMailboxCacheInto(encodedAnswer(hostileAnswer()), kUser, identity(),
                                        MailboxCacheLimits{}, &sink, &error));
    EXPECT_EQ(error, "out of memory");
}

TEST(AnswerIntoTable, EveryMailboxIsSeenOnceInFileOrderAfterOneReserve) {
    const MailboxCacheRecord in = hostileAnswer();
    std::string error;
    RecordingSink sink;
    auto rec = decodeMailboxCacheInto(encodedAnswer(in), kUser, identity(),
                                      MailboxCacheLimits{}, &sink, &error);
    ASSERT_TRUE(rec) << error;
    EXPECT_EQ(sink.reserved, std::vector<size_t>{in.mailboxes.size()});
    const std::vector<std::string>& seen = sink.seen;
    ASSERT_EQ(seen.size(), in.mailboxes.size());
    for (size_t i = 0; i < seen.size(); ++i)
        EXPECT_EQ(seen[i], in.mailboxes[i].name + "|" + in.mailboxes[i].dn + "|" +
                               (in.mailboxes[i].personal ? "p" : "s") + "|" +
                               std::to_string(in.mailboxes[i].locations.size()));
}

}  // namespace
}  // namespace dref
