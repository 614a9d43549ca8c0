// dovecot-referral-lookup: asks the directory about one user the way the
// plugins do (same settings file, same Directory code) and prints what it
// finds and what the referral decision would be.
//
// Exit status: 0 user found; 1 user not found or directory unavailable;
// 2 bad usage or bad settings file.  Every failure prints exactly one line
// "dovecot-referral-lookup: <reason>" on stderr.
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "directory.h"
#include "dref_version.h"
#include "imap_url.h"
#include "lookup_report.h"
#include "referral_decision.h"
#include "settings.h"

namespace {

const char* const kProg = "dovecot-referral-lookup";

struct Options {
    std::string settingsPath = DREF_DEFAULT_SETTINGS_FILE;
    dref::ClientFacts facts;
    int timeoutMs = 0;  // 0: derived from the settings
    std::string user;
    std::optional<std::string> mailbox;
};

int fail(int status, const std::string& reason) {
    std::fprintf(stderr, "%s: %s\n", kProg, reason.c_str());
    return status;
}

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: %s [-c SETTINGS] [--client-id NAME] [--local IP:PORT] [--secured]\n"
                 "       %*s [--timeout-ms N] USER [MAILBOX]\n"
                 "       %s --version | --help\n"
                 "\n"
                 "Looks USER up in the directory named by the dovecot-referral settings file\n"
                 "(default %s) and prints the home server, policy, warnings, remote mailboxes\n"
                 "(or the one covering MAILBOX) and the referral decision the plugins would take.\n"
                 "  --client-id NAME  IMAP ID name the client would send\n"
                 "  --local IP:PORT   listener the client would connect to\n"
                 "  --secured         the connection would be TLS-protected\n"
                 "  --timeout-ms N    give up waiting for the directory after N ms\n"
                 "Exit status: 0 found, 1 not found or directory unavailable, 2 usage or settings error.\n",
                 kProg, static_cast<int>(std::strlen(kProg)), "", kProg, DREF_DEFAULT_SETTINGS_FILE);
}

bool parseNumber(const std::string& s, long min, long max, long* out) {
    if (s.empty() || s.size() > 9) return false;
    long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

bool parseLocal(const std::string& s, dref::ClientFacts* facts) {
    const size_t colon = s.rfind(':');
    long port = 0;
    if (colon == std::string::npos || colon == 0 || !parseNumber(s.substr(colon + 1), 1, 65535, &port)) {
        return false;
    }
    std::string ip = s.substr(0, colon);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    facts->localIp = ip;
    facts->localPort = static_cast<uint16_t>(port);
    return true;
}

// 0: go on; otherwise the exit status (after --help/--version or an error).
int parseArgs(int argc, char** argv, Options* o, bool* exitNow) {
    *exitNow = false;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](std::string* out) {
            if (i + 1 >= argc) return false;
            *out = argv[++i];
            return true;
        };
        std::string v;
        if (a == "--help" || a == "-h") {
            usage(stdout);
            *exitNow = true;
            return 0;
        } else if (a == "--version") {
            std::printf("%s %s\n", kProg, DREF_VERSION);
            *exitNow = true;
            return 0;
        } else if (a == "-c" || a == "--config") {
            if (!value(&o->settingsPath)) return fail(2, a + " needs a file name");
        } else if (a == "--client-id") {
            if (!value(&o->facts.clientIdName)) return fail(2, "--client-id needs a name");
        } else if (a == "--local") {
            if (!value(&v) || !parseLocal(v, &o->facts)) return fail(2, "--local needs IP:PORT");
        } else if (a == "--secured") {
            o->facts.secured = true;
        } else if (a == "--timeout-ms") {
            long ms = 0;
            if (!value(&v) || !parseNumber(v, 1, 600000, &ms)) {
                return fail(2, "--timeout-ms needs a number of milliseconds (1..600000)");
            }
            o->timeoutMs = static_cast<int>(ms);
        } else if (a == "--") {
            for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
        } else if (a.size() > 1 && a[0] == '-') {
            return fail(2, "unknown option '" + a + "' (try --help)");
        } else {
            positional.push_back(a);
        }
    }
    if (positional.empty() || positional.size() > 2) {
        return fail(2, "expected USER [MAILBOX] (try --help)");
    }
    if (positional[0].empty()) return fail(2, "empty user name");
    o->user = positional[0];
    o->facts.loginUser = o->user;
    if (positional.size() == 2) o->mailbox = positional[1];
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    Options opt;
    bool exitNow = false;
    if (int rc = parseArgs(argc, argv, &opt, &exitNow); rc != 0 || exitNow) return rc;

    dref::Settings settings;
    std::string error;
    if (!dref::loadSettingsFromPath(opt.settingsPath, &settings, &error)) return fail(2, error);
    // Password mode: read the stored password as the auth process does, so
    // the report can show that the bind DN may read it ("(set)"; the value
    // itself is never printed).
    dref::DirectoryOptions options;
    options.readPasswords = !settings.directory.passwordAttribute.empty();
    auto directory = dref::Directory::create(settings, &error, options);
    if (!directory) return fail(2, "cannot use the directory settings: " + error);

    const auto& d = settings.directory;
    int timeoutMs = opt.timeoutMs;
    if (timeoutMs == 0) {
        // Room for a connect attempt per URI, the user search and the two
        // mailbox searches that follow it.
        timeoutMs = d.connectTimeoutMs * static_cast<int>(d.uris.size()) + 2 * d.timeoutMs + 1000;
    }

    std::optional<dref::UserLookupResult> user;
    std::optional<dref::MailboxLookupResult> mailboxes;
    directory->lookupUser(opt.user, [&](dref::UserLookupResult&& r) { user = std::move(r); });
    directory->lookupRemoteMailboxes(opt.user,
                                     [&](dref::MailboxLookupResult&& r) { mailboxes = std::move(r); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!user || !mailboxes) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            return fail(1, "directory unavailable: no answer within " + std::to_string(timeoutMs) + " ms");
        }
        pollfd p{directory->eventFd(), POLLIN, 0};
        poll(&p, 1, static_cast<int>(left));
        directory->process();
    }
    if (user->status == dref::DirectoryStatus::Unavailable) {
        return fail(1, "directory unavailable: " + user->error);
    }
    if (mailboxes->status == dref::DirectoryStatus::Unavailable) {
        return fail(1, "directory unavailable: " + mailboxes->error);
    }

    dref::LookupReport report{opt.user, opt.mailbox, *user, *mailboxes, opt.facts};
    dref::printLookupReport(stdout, report, settings);
    std::fflush(stdout);
    if (user->status == dref::DirectoryStatus::NotFound) {
        return fail(1, "user '" + dref::quoteUser(opt.user) + "' not found in the directory");
    }
    return 0;
} catch (const std::exception& e) {
    return fail(1, std::string("internal error: ") + e.what());
} catch (...) {
    return fail(1, "internal error");
}
