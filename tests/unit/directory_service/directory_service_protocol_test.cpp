// The referral-directory service's protocol with its clients: a missing or
// foreign service, hostile peers on either side, a client gone before its
// answer (directory_service_test_util.h).
#include "directory_service_test_util.h"
#include "remote_mailbox_cache_encoder.h"

namespace dref::testing_service {

TEST_F(DirectoryServiceTest, ClientGoneBeforeTheAnswerIsHarmless) {
    startService(settings_);
    ServiceReply r;
    bool done;
    auto& c = client();
    uint64_t id = ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    c.cancel(id);  // the session ended: the client closes its connection
    pumpUntil([&] { return service_->stats().connections == 0; });
    directory_.answer(found("Shared/Projects"));  // nobody to send it to; still cached
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_FALSE(done && r.kind != ServiceReply::Kind::Answer);
}

TEST_F(DirectoryServiceTest, NoSocketMeansNoService) {
    ServiceReply r;
    bool done;
    EXPECT_EQ(ask(client(), "carol", &r, &done), 0u);
    EXPECT_EQ(r.kind, ServiceReply::Kind::NoService);
    EXPECT_NE(r.error.find(path_), std::string::npos);
}

TEST_F(DirectoryServiceTest, ServiceWithOtherSettingsIsNotUsed) {
    Settings other = settings_;
    other.directory.userBase = "ou=elsewhere,dc=example,dc=test";
    startService(other);
    ServiceReply r;
    bool done;
    ask(client(), "carol", &r, &done);
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("other directory settings"), std::string::npos) << r.error;
}

// A peer that is not our service: whatever it sends, the client fails the
// lookup with a reason and never builds a table from it.
class HostileServiceTest : public DirectoryServiceTest {
protected:
    // With intoTable, the client decodes a Found answer straight into a
    // table (as the imap process does): the same refusals.
    ServiceReply against(const std::string& bytes, bool intoTable = false) {
        listen();
        auto& c = client();
        ServiceReply r;
        bool done = false;
        DirectoryServiceClient::TableBuilderFn makeBuilder;
        if (intoTable)
            makeBuilder = [this](std::vector<std::string>* warnings) {
                return std::make_unique<RemoteMailboxTable::Builder>('/', noNames_, noNames_,
                                                                     warnings);
            };
        ask(c, "carol", &r, &done, makeBuilder);
        int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        EXPECT_GE(fd, 0);
        // Read the client's VERSION and LOOKUP (sent at once by lookup()):
        // closing with unread data would make the client see a reset, not
        // what this peer sends.
        char buf[4096];
        EXPECT_GT(read(fd, buf, sizeof buf), 0);
        EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        close(fd);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (!done && std::chrono::steady_clock::now() < end) pumpOnce();
        EXPECT_TRUE(done);
        return r;
    }
    std::string version() { return encodeVersionLine(mailboxCacheIdentity(settings_.directory)); }
    const std::vector<std::string> noNames_;
};

TEST_F(HostileServiceTest, Garbage) {
    ServiceReply r = against("HTTP/1.1 200 OK\n\n");
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("expected VERSION first"), std::string::npos) << r.error;
}

TEST_F(HostileServiceTest, ClosedWithoutAnswer) {
    ServiceReply r = against(version());
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("closed"), std::string::npos) << r.error;
}

TEST_F(HostileServiceTest, PayloadForAnotherUser) {
    MailboxCacheRecord rec;
    rec.user = "mallory";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    ServiceReply r = against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, *payload));
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
}

TEST_F(HostileServiceTest, DamagedPayload) {
    MailboxCacheRecord rec;
    rec.user = "carol";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    rec.mailboxes.push_back(found("Shared/Projects").mailboxes[0]);
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    std::string bad = *payload;
    bad[bad.find("home2")] = 'H';  // the checksum no longer matches
    ServiceReply r = against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, bad));
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
}

TEST_F(HostileServiceTest, DamagedPayloadIntoATableIsRefusedToo) {
    MailboxCacheRecord rec;
    rec.user = "carol";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    rec.mailboxes.push_back(found("Shared/Projects").mailboxes[0]);
    rec.mailboxes.push_back(found("Shared/Archive").mailboxes[0]);
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    // A URL the checks refuse in the second entry, after the first was
    // taken into the table; sealed again, so that only the URL check is left.
    std::string bad = *payload;
    const size_t at = bad.rfind("url imap://") + 4;
    bad.replace(at, 7, "http://");
    const std::string body = bad.substr(0, bad.rfind("end "));
    bad = body + "end " + mailboxCacheChecksum(body) + "\n";
    ServiceReply r =
        against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, bad), true);
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("URL rejected"), std::string::npos) << r.error;
    EXPECT_FALSE(r.result.table);
}

TEST_F(HostileServiceTest, StatusAndPayloadDisagree) {
    MailboxCacheRecord rec;
    rec.user = "carol";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    rec.answer = CachedAnswer::NotFound;
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    ServiceReply r = against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, *payload));
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("disagree"), std::string::npos) << r.error;
}

// A client that is not ours: the service drops its connection and stays up.
TEST_F(DirectoryServiceTest, HostileClientIsDropped) {
    startService(settings_);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    const std::string junk = "GET / HTTP/1.0\r\n\r\n";
    ASSERT_EQ(write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    pumpUntil([&] { return service_->stats().protocolErrors == 1; });
    pumpUntil([&] { return service_->stats().connections == 0; });
    close(fd);
    // Still serving.
    ServiceReply r;
    bool done;
    ask(client(), "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    directory_.answer(found("Shared/Projects"));
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.kind, ServiceReply::Kind::Answer);
}

}  // namespace dref::testing_service
