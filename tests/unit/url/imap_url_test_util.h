#pragma once
// Helpers shared by the IMAP URL unit tests (not a test file itself).
#include <gtest/gtest.h>

#include <string>

#include "imap_url.h"

namespace dref::testing_url {

inline ImapUrlParts server(std::string user, std::string auth = "*",
                                std::string host = "server2.example.org") {
    ImapUrlParts p;
    p.user = std::move(user);
    p.auth = std::move(auth);
    p.host = std::move(host);
    return p;
}

inline ImapUrlParts mailbox(std::string name, std::string user = "fred") {
    ImapUrlParts p = server(std::move(user));
    p.mailbox = std::move(name);
    return p;
}

inline std::string build(const ImapUrlParts& p) {
    std::string error;
    auto url = buildImapUrl(p, &error);
    EXPECT_TRUE(url.has_value()) << error;
    return url.value_or("");
}

inline std::string buildError(const ImapUrlParts& p) {
    std::string error;
    auto url = buildImapUrl(p, &error);
    EXPECT_FALSE(url.has_value()) << *url;
    EXPECT_FALSE(error.empty());
    return error;
}

inline std::string parseError(std::string_view url) {
    std::string error;
    auto parts = parseImapUrl(url, &error);
    EXPECT_FALSE(parts.has_value()) << "accepted: " << url;
    EXPECT_FALSE(error.empty());
    return error;
}

inline void expectSameParts(const ImapUrlParts& a, const ImapUrlParts& b) {
    EXPECT_EQ(a.user, b.user);
    EXPECT_EQ(a.auth, b.auth);
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.port, b.port);
    EXPECT_EQ(a.mailbox, b.mailbox);
    EXPECT_EQ(a.uidValidity, b.uidValidity);
}

}  // namespace dref::testing_url
