#include "lookup_report.h"

#include "imap_url.h"
#include "mutf7.h"
#include "remote_mailbox_table.h"
#include "response_text.h"

namespace dref {
namespace {

const char* statusName(DirectoryStatus s) {
    switch (s) {
    case DirectoryStatus::Found: return "found";
    case DirectoryStatus::NotFound: return "not found";
    case DirectoryStatus::Unavailable: return "unavailable";
    }
    return "?";
}

LookupStatus toLookupStatus(DirectoryStatus s) {
    switch (s) {
    case DirectoryStatus::Found: return LookupStatus::Found;
    case DirectoryStatus::NotFound: return LookupStatus::NotFound;
    case DirectoryStatus::Unavailable: break;
    }
    return LookupStatus::Unavailable;
}

// UTF-8 text is shown as such (mailbox names and DNs are often non-ASCII);
// anything with control characters or invalid UTF-8 is escaped.
std::string q(const std::string& s) {
    bool plain = s.size() <= 300 && isValidUtf8(s);
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) plain = false;
    }
    return plain ? s : quoteForLog(s, 300);
}

std::string urlOrError(const ImapUrlParts& parts) {
    std::string error;
    auto url = buildImapUrl(parts, &error);
    return url ? *url : "(no URL: " + error + ")";
}

void line(FILE* out, const char* key, const std::string& value) {
    std::fprintf(out, "%s: %s\n", key, value.c_str());
}

// The URL a mailbox referral would carry for `name` covered by `entry`.
ImapUrlParts mailboxUrlParts(const RemoteMailboxEntry& entry, const RemoteMailboxMatch& match,
                             const std::string& user) {
    ImapUrlParts parts = entry.location(0);
    std::string base = parts.mailbox ? *parts.mailbox : entry.directoryName();
    if (!match.inferior.empty()) {
        std::string inferior = match.inferior;
        for (char& c : inferior) {
            if (c == match.separator) c = '/';
        }
        base += "/" + inferior;
    }
    parts.mailbox = base;
    if (parts.user.empty()) parts.user = user;
    return parts;
}

}  // namespace

std::string quoteUser(const std::string& user) { return quoteForLog(user); }

void printLookupReport(FILE* out, const LookupReport& r, const Settings& settings) {
    const UserLookupResult& u = r.userResult;
    line(out, "user", q(r.user));
    std::fprintf(out, "directory: %s (%.1f ms%s)\n", statusName(u.status), u.elapsedUs / 1000.0,
                 u.fromCache ? ", cached" : "");
    if (u.status == DirectoryStatus::Found) {
        line(out, "dn", u.record.dn.empty() ? std::string("(none)") : q(u.record.dn));
        if (u.record.home) {
            line(out, "home server", u.record.home->host + ":" + std::to_string(u.record.home->port));
        } else {
            line(out, "home server", "(none)");
        }
        if (!u.record.homeError.empty()) line(out, "home server problem", q(u.record.homeError));
        line(out, "policy", u.record.policy ? referralPolicyName(*u.record.policy) : "(none)");
        if (!u.record.referralUser.empty()) line(out, "referral user", q(u.record.referralUser));
        // Password mode: only whether the entry has a usable value (a
        // secret: never printed, not even in part).
        if (!settings.directory.passwordAttribute.empty()) {
            line(out, "password", u.record.password              ? std::string("(set)")
                                  : u.record.passwordError.empty() ? std::string("(none)")
                                                                   : "(refused: " + u.record.passwordError + ")");
        }
    }
    for (const auto& w : u.warnings) line(out, "warning", q(w));

    const Decision d = decide(toLookupStatus(u.status), u.record, r.facts, settings.decision);
    line(out, "decision", decisionKindName(d.kind));
    line(out, "decision source", d.source);
    line(out, "decision why", q(decisionWhy(d, u.record, r.facts)));
    if (d.kind == DecisionKind::Refer || d.kind == DecisionKind::Suggest ||
        d.kind == DecisionKind::Proxy || d.kind == DecisionKind::ProxySuggest) {
        line(out, "target", d.target.host + ":" + std::to_string(d.target.port));
        line(out, "target user", q(d.targetUser));
    }
    if (d.kind == DecisionKind::Refer || d.kind == DecisionKind::Suggest ||
        d.kind == DecisionKind::ProxySuggest) {
        ImapUrlParts parts;
        parts.user = d.targetUser;
        parts.host = d.target.host;
        parts.port = d.target.port;
        line(out, "referral url", urlOrError(parts));
    }

    const MailboxLookupResult& m = r.mailboxResult;
    std::vector<std::string> warnings = m.warnings;
    const std::string urlUser = u.record.referralUser.empty() ? r.user : u.record.referralUser;
    if (m.status != DirectoryStatus::Found) {
        line(out, "remote mailboxes", "(none: user not found)");
        return;
    }
    auto table = RemoteMailboxTable::build(m.mailboxes, '/', settings.decision.localNames,
                                           settings.decision.allowedHosts, &warnings,
                                           EntryDns::Kept);
    // Directory warnings were printed with the user; print the mailbox ones.
    for (size_t i = 0; i < warnings.size(); ++i) {
        if (i < u.warnings.size() && warnings[i] == u.warnings[i]) continue;
        line(out, "mailbox warning", q(warnings[i]));
    }
    if (r.mailbox) {
        line(out, "mailbox", q(*r.mailbox));
        auto match = table.find(*r.mailbox);
        if (!match) {
            line(out, "mailbox placement", "local (no remote mailbox covers it)");
            return;
        }
        const RemoteMailboxEntry& e = match->entry;
        line(out, "mailbox placement", std::string("remote (") + (e.personal() ? "personal" : "shared") +
                                           " entry " + q(e.directoryName()) + ")");
        line(out, "mailbox dn", q(std::string(e.dn())));
        line(out, "mailbox referral url", urlOrError(mailboxUrlParts(e, *match, urlUser)));
        return;
    }
    line(out, "remote mailboxes", std::to_string(table.size()));
    for (const auto& e : table.entries()) {
        std::string urls;
        for (const ImapUrlParts& loc : e.locations()) {
            ImapUrlParts parts = loc;
            if (!parts.mailbox) parts.mailbox = e.directoryName();
            if (parts.user.empty()) parts.user = urlUser;
            urls += " " + urlOrError(parts);
        }
        std::fprintf(out, "  %s (%s, %s):%s\n", q(e.directoryName()).c_str(),
                     e.personal() ? "personal" : "shared", q(std::string(e.dn())).c_str(),
                     urls.c_str());
    }
}

}  // namespace dref
