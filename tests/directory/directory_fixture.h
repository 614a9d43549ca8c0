#pragma once
// Shared pieces of the directory tests: one slapd with testdata/directory.ldif
// for the whole binary (started by a gtest Environment, stopped in its
// TearDown even when tests fail), settings pointing at it, and synchronous
// wrappers that drive Directory with poll() the way an event loop would.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "directory.h"
#include "settings.h"
#include "slapd_process.h"

namespace dref::test {

// Addresses of the LDAP helper's range (CONTRACTS.md): the shared server and
// the ones that tests stop, kill or pause.
constexpr const char* kSharedAddr = "127.0.0.11";
constexpr const char* kDisruptAddr = "127.0.0.12";

SlapdProcess& sharedSlapd();
std::string runDir(const std::string& name);  // a fresh directory under the build tree

// Settings for `uris` (default: the shared server) with short timeouts.
Settings testSettings(const std::vector<std::string>& uris = {});

// The directory tests run twice (CMakeLists.txt): once as the directory
// service and the imap plugin use the client (searches on its worker
// thread), once as the auth process does (DREF_DIRECTORY_SEARCH_ON_CALLER_THREAD=1 in
// the environment: DirectoryOptions::searchOnCallerThread).
bool searchOnCallerThread();
// DirectoryOptions with that choice made.
DirectoryOptions testOptions();

std::unique_ptr<Directory> makeDirectory(const Settings& s);

struct Timed {
    int64_t ms = 0;
};

// Runs one lookup and waits (poll on eventFd + process) up to maxMs.
// *deliveredInside is set when the callback ran inside the lookup call.
std::optional<UserLookupResult> lookupUser(Directory& d, const std::string& user, int maxMs = 10000,
                                           bool* deliveredInside = nullptr, Timed* timed = nullptr);
std::optional<MailboxLookupResult> lookupMailboxes(Directory& d, const std::string& user,
                                                   int maxMs = 10000);

// Retries lookupUser until it is Found or `maxMs` passes (recovery tests).
std::optional<UserLookupResult> lookupUntilFound(Directory& d, const std::string& user, int maxMs);

bool anyContains(const std::vector<std::string>& texts, const std::string& needle);

}  // namespace dref::test
