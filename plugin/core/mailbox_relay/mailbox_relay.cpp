#include "mailbox_relay.h"

#include "mutf7.h"

namespace dref {

namespace {

// True when the levels of `name`, split at `sep`, include "." or "..".
bool dotLevelIn(std::string_view name, char sep) {
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find(sep, start);
        if (end == std::string_view::npos) end = name.size();
        const std::string_view level = name.substr(start, end - start);
        if (level == "." || level == "..") return true;
        start = end + 1;
    }
    return false;
}

bool hasDotLevelBelowEntry(const RemoteMailboxMatch& match) {
    return !match.inferior.empty() && dotLevelIn(match.inferior, match.separator);
}

const char kDotLevelError[] =
    "Mailbox names with a '.' or '..' level are not relayed to the server that holds them.";

}  // namespace

const char* unmappableOwnerPrefix(std::string_view wire, char ownerSep) {
    // imapc escapes each name of the owner's LIST answer into a storage
    // name before it strips imapc_list_prefix (the owner's name of the
    // entry) from it, and asserts that the prefix is still there
    // (imapc-list.c: imapc_list_remote_to_storage_name(),
    // imapc_list_get_vname(); Dovecot 2.3.19.1 and 2.4.1).  A prefix the
    // escaping changes never matches its own escaped form: the imap process
    // panicked at the first answer.  Escaped are imapc's escape character
    // '%', a '~' that starts the name, a '/' that is not the owner's
    // separator, and a "." or ".." level at the start of the name or after
    // a '/' (mailbox-list.c: mailbox_list_escape_name_params(); its level
    // starts are after '/' whatever the separator).
    if (wire.empty() || wire.front() == ownerSep || wire.back() == ownerSep)
        return ownerSep == '/' ? "the owner's mailbox name is empty or starts or ends with '/'"
                               : "the owner's mailbox name is empty or starts or ends with its "
                                 "hierarchy separator";
    if (wire.find('%') != std::string_view::npos)
        return "the owner's mailbox name contains '%' (imapc's escape character)";
    if (wire.front() == '~') return "the owner's mailbox name starts with '~'";
    if (ownerSep != '/' && wire.find('/') != std::string_view::npos)
        return "the owner's mailbox name contains '/', which is not its hierarchy separator "
               "(imapc escapes it)";
    if (dotLevelIn(wire, '/')) return "the owner's mailbox name has a '.' or '..' hierarchy level";
    return nullptr;
}

bool relaysRemoteMailboxes(const MailboxReferralSession& session) {
    return session.enabled() && session.settings().mailbox.relay &&
           session.state() == TableState::Ready && !session.referralsAllowed();
}

std::optional<RelayTarget> relayTargetFor(const MailboxReferralSession& session,
                                          std::string_view vname, std::string* why) {
    std::optional<RemoteMailboxMatch> match = session.table().find(vname);
    if (!match || !match->entry.valid()) return std::nullopt;
    const RemoteMailboxEntry& entry = match->entry;
    if (entry.locationCount() == 0) {
        if (why) *why = "the entry has no location";
        return std::nullopt;
    }
    // Locations are in the directory's order of preference (R2193-9); the
    // relay uses the first one, as a client following the referral would.
    const ImapUrlParts loc = entry.location(0);
    RelayTarget t;
    t.entryVname = std::string(entry.vname());
    t.separator = session.table().separator();
    t.prefix = t.entryVname + t.separator;
    // Without a mailbox in the URL the directory name is the owner's name
    // (D-19), exactly as for the referral URL.
    t.remoteName = loc.mailbox.has_value() && !loc.mailbox->empty() ? *loc.mailbox
                                                                     : entry.directoryName();
    t.host = loc.host;
    t.port = loc.port;
    t.user = loc.user.empty() ? session.user() : loc.user;
    if (t.host.empty() || t.user.empty()) {
        if (why) *why = "no host or no user for the owning server";
        return std::nullopt;
    }
    // imapc sends imapc_list_prefix as it is and reads the owner's names in
    // modified UTF-7 (imapc-list.c: imapc_list_get_vname() decodes them):
    // a UTF-8 prefix would neither be understood by the owner nor match
    // its answers.
    std::optional<std::string> wire = utf8ToMutf7(t.remoteName);
    if (!wire) {
        if (why) *why = "the owner's mailbox name is not valid UTF-8";
        return std::nullopt;
    }
    // The owner's separator is known only once imapc is connected: '/'
    // here, the owner's own one in the relay's reply filter.  Every name
    // this refuses is refused with any other separator too (a '/' in it is
    // escaped there), so no entry that another separator could relay is
    // lost here.
    if (const char* bad = unmappableOwnerPrefix(*wire, '/')) {
        if (why) *why = bad;
        return std::nullopt;
    }
    t.remoteWireName = std::move(*wire);
    return t;
}

MailboxVerdict decideInRelayNamespace(const MailboxReferralSession& session,
                                      std::string_view vname, MailboxCommand command) {
    if (session.referralsAllowed()) return session.decide(vname, command);
    MailboxVerdict v;
    std::optional<RemoteMailboxMatch> match = session.table().find(vname);
    // "x/.." below an entry is, for an owner that resolves it, the entry
    // itself (which DELETE and RENAME must not reach) or a name outside it;
    // "." and ".." are no mailbox names an IMAP server lists.  imapc sends
    // them as they are, so they stop here for every command.
    if (match && hasDotLevelBelowEntry(*match)) {
        v.kind = MailboxVerdict::Kind::Refuse;
        v.error = kDotLevelError;
        return v;
    }
    if (command != MailboxCommand::Delete) return v;
    // The entry itself is the directory's name for the mailbox: deleting it
    // on the owner would leave a directory entry that names nothing, and
    // this server cannot change the directory.  Its inferiors are the
    // owner's to delete (the same rule as RENAME).
    if (match && match->inferior.empty()) {
        v.kind = MailboxVerdict::Kind::Refuse;
        v.error = "The directory names this remote mailbox: it cannot be deleted here.";
    }
    return v;
}

MailboxVerdict decideRelayRename(const MailboxReferralSession& session, std::string_view oldName,
                                 std::string_view newName) {
    MailboxVerdict v;
    if (!session.enabled()) return v;
    std::optional<RemoteMailboxMatch> from = session.table().find(oldName);
    std::optional<RemoteMailboxMatch> to = session.table().find(newName);
    if (!from && !to) return v;
    v.kind = MailboxVerdict::Kind::Refuse;
    if ((from && from->inferior.empty()) || (to && to->inferior.empty())) {
        v.error = "The directory names this remote mailbox: it cannot be renamed here.";
        return v;
    }
    if (!from || !to) {
        v.error = "Cannot rename between this server and the server of a remote mailbox.";
        return v;
    }
    if (hasDotLevelBelowEntry(*from) || hasDotLevelBelowEntry(*to)) {
        v.error = kDotLevelError;
        return v;
    }
    if (from->entry.vname() != to->entry.vname()) {
        v.error = "Cannot rename between two remote mailboxes (each has its own server).";
        return v;
    }
    return MailboxVerdict();
}

bool relaySubscribesAtHome(const MailboxReferralSession& session, std::string_view vname) {
    return relaysRemoteMailboxes(session) && session.isRemote(vname);
}

const char kRelayLimitError[] =
    "[LIMIT] Too many remote mailboxes in use in this session; log out and in again to use this "
    "one.";

MailboxVerdict decideOutsideRelayNamespace(const MailboxReferralSession& session,
                                           std::string_view vname, MailboxCommand command,
                                           size_t relayedEntries) {
    // LIST never opens a mailbox: the listing is not bounded.
    if (command != MailboxCommand::List &&
        !relayAdmitsAnother(session.settings().mailbox.relayConnection, relayedEntries) &&
        relaysRemoteMailboxes(session) && session.isRemote(vname)) {
        MailboxVerdict v;
        v.kind = MailboxVerdict::Kind::Refuse;
        v.error = kRelayLimitError;
        return v;
    }
    return session.decide(vname, command);
}

bool checkRelaySettings(const Settings& s, std::string* key, std::string* why) {
    const MailboxSettings& m = s.mailbox;
    if (!checkRelayConnection(m.relayConnection, key, why)) return false;
    if (!m.relay) return true;
    if (m.relayMasterUser.empty()) {
        *key = "mailbox_relay_master_user";
        *why = "required when mailbox_relay = yes";
        return false;
    }
    if (m.relayMasterPassword.empty()) {
        *key = "mailbox_relay_master_password";
        *why = "required when mailbox_relay = yes";
        return false;
    }
    if (m.mode != MailboxReferralMode::OptIn) {
        // With mode always every session is referred, so nothing would ever
        // be relayed: a configuration that cannot do what it says.
        *key = "mailbox_relay";
        *why = "needs mailbox_referral_mode = opt-in (with always, every session is referred)";
        return false;
    }
    if (!m.enabled) {
        *key = "mailbox_relay";
        *why = "needs mailbox_referrals = yes (the remote mailbox table)";
        return false;
    }
    return true;
}

}  // namespace dref
