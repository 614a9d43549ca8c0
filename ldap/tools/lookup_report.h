#pragma once
// The text dovecot-referral-lookup prints: the directory's answer for one
// user and the referral decision taken from it.  Every directory value is
// printed through quoteForLog (control characters escaped).
#include <cstdio>
#include <optional>
#include <string>

#include "directory.h"
#include "referral_decision.h"
#include "settings.h"

namespace dref {

struct LookupReport {
    std::string user;
    std::optional<std::string> mailbox;  // MAILBOX argument, when given
    const UserLookupResult& userResult;
    const MailboxLookupResult& mailboxResult;
    ClientFacts facts;
};

void printLookupReport(FILE* out, const LookupReport& report, const Settings& settings);

std::string quoteUser(const std::string& user);

}  // namespace dref
