#pragma once
// Helpers shared by the imap plugin's session unit tests (not a test file
// itself): directory records and a session whose table is loaded.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mailbox_referral_session.h"

namespace dref::testing_session {

// One remote mailbox with one location on host:10143.
inline RemoteMailbox remoteMailbox(const std::string& name, const std::string& host,
                                   std::optional<std::string> mailbox = std::nullopt,
                                   const std::string& user = "") {
    RemoteMailbox m;
    m.name = name;
    ImapUrlParts p;
    p.host = host;
    p.port = 10143;
    p.user = user;
    p.mailbox = std::move(mailbox);
    m.locations.push_back(p);
    m.dn = "cn=" + name;
    return m;
}

// A session of "alice" with the table of `mailboxes` ('/' separator) loaded.
inline std::unique_ptr<MailboxReferralSession> loadedSession(
    std::shared_ptr<const Settings> settings, const std::vector<RemoteMailbox>& mailboxes) {
    auto session = std::make_unique<MailboxReferralSession>(std::move(settings), "alice");
    session->startLoading(0);
    std::vector<std::string> warnings;
    session->tableLoaded(RemoteMailboxTable::build(mailboxes, '/', {}, {}, &warnings), 1000);
    return session;
}

}  // namespace dref::testing_session
