// Storage-level referrals (DOVECOT-NOTES §2.4, verified approach): every
// mailbox of a session gets overrides of exists, open, create_box,
// delete_box, rename_box and get_status that consult the session for the
// box's vname on every call, so a name is never opened locally by one
// command and referred by another (item 6).  A referral is the error
// "[REFERRAL <urls>] <text>" with MAIL_ERROR_NOTPOSSIBLE, which
// imap_get_error_string() sends verbatim after "NO " (never NOTFOUND: that
// adds [TRYCREATE] on APPEND and COPY).  SELECT, EXAMINE, STATUS, APPEND
// (cmd-append.c: client_open_save_dest_box -> mailbox_open), COPY/MOVE
// (cmd-copy.c: the same function with the destination), CREATE, DELETE and
// RENAME all meet these vfuncs.
//
// The list override hides remote names from LIST/LSUB (R2193-13) and from
// the local part of RLIST/RLSUB, which print them themselves, and marks a
// local parent of remote names \HasChildren where those are listed.
#include "imap_glue.h"
#include "mailbox_relay.h"
#include "response_text.h"

namespace dref {
namespace {

MODULE_CONTEXT_DEFINE_INIT(dref_storage_module, &mail_storage_module_register);
MODULE_CONTEXT_DEFINE_INIT(dref_list_module, &mailbox_list_module_register);

union mailbox_module_context* boxContext(struct mailbox* box) {
    return static_cast<union mailbox_module_context*>(MODULE_CONTEXT(box, dref_storage_module));
}

union mailbox_list_module_context* listContext(struct mailbox_list* list) {
    return static_cast<union mailbox_list_module_context*>(MODULE_CONTEXT(list, dref_list_module));
}

struct mail_user* boxUser(struct mailbox* box) { return box->list->ns->user; }

// The verdict for this box under the command being executed.  RENAME is
// decided in rename_box alone (it never opens the source).
MailboxVerdict verdictFor(struct mailbox* box) {
    MailboxVerdict v;
    if (OverrideBypass::active()) return v;
    MailboxReferralSession* session = sessionForUser(boxUser(box));
    if (session == nullptr) return v;
    bool decided = false;
    guarded("mailbox decision", [&] {
        MailboxCommand command = currentCommandKind(boxUser(box));
        if (isRelayNamespace(box->list->ns))  // issue 12: served by the relay
            v = decideInRelayNamespace(*session, box->vname, command);
        else if (command != MailboxCommand::Rename)
            v = decideOutsideRelayNamespace(*session, box->vname, command,
                                            relayNamespaceCount(boxUser(box)));
        decided = true;
    });
    if (!decided) {
        // Failing closed: a remote name must not open locally by accident.
        v = MailboxVerdict();
        v.kind = MailboxVerdict::Kind::Refuse;
        v.error = "Internal error.";
    }
    return v;
}

// Octets of a client's mailbox name repeated in a tagged reply.
constexpr size_t kMaxNameInReply = 200;

// Dovecot's "Mailbox doesn't exist: <name>" with the client's name made
// safe for the tagged reply: a name decoded from modified UTF-7 may hold
// CR, LF and other control characters (only printable ASCII may not be
// encoded), and imap writes the error text as it is.
const char* notFound(const char* vname) {
    return T_MAIL_ERR_MAILBOX_NOT_FOUND(str_sanitize(vname, kMaxNameInReply));
}

// Octets of a storage error sent to the client (str_sanitize() cuts there).
constexpr size_t kMaxErrorInReply = 1000;

// The result of a storage vfunc the plugin passed on to Dovecot: an error
// whose text holds control octets gets them replaced with '?'.  Dovecot's
// own storages repeat the client's mailbox name as it is in "Mailbox doesn't
// exist: <name>" (2.3.19.1 maildir-storage.c:373, mail-storage.c:1464;
// 2.4.1 the same), and a relayed mailbox's error is the owner's text as
// imapc got it; a name decoded from modified UTF-7 may hold CR, LF or ESC
// (only printable ASCII may not be encoded), and imap writes the text into
// the tagged NO as it is: SELECT "Nope&AA0ACgAb-FAKE" ended the NO after
// "Nope" and sent "<ESC>FAKE..." as a line of its own (lab test
// mailbox_relay_owner).  Every mailbox of a session meets these overrides.
int safeResult(struct mailbox* box, int ret) {
    if (ret >= 0) return ret;
    enum mail_error code;
    const char* text = mailbox_get_last_error(box, &code);
    if (text != nullptr && containsControlOctet(text))
        mail_storage_set_error(box->storage, code, str_sanitize(text, kMaxErrorInReply));
    return ret;
}

// The result of a storage vfunc of a mailbox the session may relay (open,
// exists, get_status, create, delete, sync_deinit): an unreachable owner
// becomes MAIL_ERROR_UNAVAILABLE (relayResult), and then the error text is
// made safe for the tagged reply.
int passedOnResult(struct mailbox* box, int ret) {
    return safeResult(box, relayResult(box, ret));
}

// Sets the storage error for a non-local verdict.  Returns -1 (the vfunc's
// failure) so callers can `return fail(...)`.
int fail(struct mailbox* box, const MailboxVerdict& v) {
    switch (v.kind) {
        case MailboxVerdict::Kind::Refer:
            logReferral(boxUser(box), currentCommandName(boxUser(box)), box->vname, v);
            mail_storage_set_error(box->storage, MAIL_ERROR_NOTPOSSIBLE, v.error.c_str());
            break;
        case MailboxVerdict::Kind::Refuse:
            mail_storage_set_error(box->storage, MAIL_ERROR_NOTPOSSIBLE, v.error.c_str());
            break;
        case MailboxVerdict::Kind::Nonexistent:
        case MailboxVerdict::Kind::Local:
            mail_storage_set_error(box->storage, MAIL_ERROR_NOTFOUND,
                                   notFound(box->vname));
            break;
    }
    return -1;
}

int boxExists(struct mailbox* box, bool autoBoxes, enum mailbox_existence* existence) {
    MailboxVerdict v = verdictFor(box);
    if (v.kind == MailboxVerdict::Kind::Local)
        return passedOnResult(box, boxContext(box)->super.exists(box, autoBoxes, existence));
    if (v.kind == MailboxVerdict::Kind::Nonexistent) {
        *existence = MAILBOX_EXISTENCE_NONE;
        return 0;
    }
    return fail(box, v);
}

int boxOpen(struct mailbox* box) {
    MailboxVerdict v = verdictFor(box);
    if (v.kind == MailboxVerdict::Kind::Local)
        return passedOnResult(box, boxContext(box)->super.open(box));
    return fail(box, v);
}

int boxCreate(struct mailbox* box, const struct mailbox_update* update, bool directory) {
    MailboxVerdict v = verdictFor(box);
    if (v.kind == MailboxVerdict::Kind::Local)
        return passedOnResult(box, boxContext(box)->super.create_box(box, update, directory));
    return fail(box, v);
}

int boxDelete(struct mailbox* box) {
    MailboxVerdict v = verdictFor(box);
    if (v.kind == MailboxVerdict::Kind::Local)
        return passedOnResult(box, boxContext(box)->super.delete_box(box));
    return fail(box, v);
}

int boxGetStatus(struct mailbox* box, enum mailbox_status_items items,
                 struct mailbox_status* status) {
    MailboxVerdict v = verdictFor(box);
    if (v.kind == MailboxVerdict::Kind::Local)
        return passedOnResult(box, boxContext(box)->super.get_status(box, items, status));
    return fail(box, v);
}

// A sync of a relayed mailbox (SELECT's first sync, NOOP, IDLE) fails
// when its owner went away; relayResult() says so to the client.
int boxSyncDeinit(struct mailbox_sync_context* ctx, struct mailbox_sync_status* status) {
    struct mailbox* box = ctx->box;
    return passedOnResult(box, boxContext(box)->super.sync_deinit(ctx, status));
}

bool boxIsInconsistent(struct mailbox* box) {
    if (isRelayNamespace(box->list->ns)) return relayIsInconsistent(box);
    return boxContext(box)->super.is_inconsistent(box);
}

int boxRename(struct mailbox* src, struct mailbox* dest) {
    MailboxVerdict v;
    MailboxReferralSession* session = OverrideBypass::active() ? nullptr : sessionForUser(boxUser(src));
    if (session != nullptr) {
        bool decided = false;
        guarded("rename decision", [&] {
            // issue 12: a relaying session renames through the relay only
            // within one remote entry; otherwise NO [CANNOT].
            v = relaysRemoteMailboxes(*session)
                    ? decideRelayRename(*session, src->vname, dest->vname)
                    : session->decideRename(src->vname, dest->vname);
            decided = true;
        });
        if (!decided) {
            v = MailboxVerdict();
            v.kind = MailboxVerdict::Kind::Refuse;
            v.error = "Internal error.";
        }
    }
    if (v.kind == MailboxVerdict::Kind::Local)
        return safeResult(src, boxContext(src)->super.rename_box(src, dest));
    if (v.kind == MailboxVerdict::Kind::Refer)
        logReferral(boxUser(src), "RENAME", src->vname, v);
    if (v.kind == MailboxVerdict::Kind::Nonexistent) {
        mail_storage_set_error(src->storage, MAIL_ERROR_NOTFOUND,
                               notFound(src->vname));
        return -1;
    }
    mail_storage_set_error(src->storage, MAIL_ERROR_NOTPOSSIBLE, v.error.c_str());
    return -1;
}

void mailboxAllocated(struct mailbox* box) {
    struct mailbox_vfuncs* v = box->vlast;
    auto* ctx = p_new(box->pool, union mailbox_module_context, 1);
    ctx->super = *v;
    box->vlast = &ctx->super;
    v->exists = boxExists;
    v->open = boxOpen;
    v->create_box = boxCreate;
    v->delete_box = boxDelete;
    v->rename_box = boxRename;
    v->get_status = boxGetStatus;
    v->is_inconsistent = boxIsInconsistent;
    v->sync_deinit = boxSyncDeinit;
    MODULE_CONTEXT_SET_SELF(box, dref_storage_module, ctx);
}

bool listingCommand(struct mail_user* user) {
    return currentCommandKind(user) == MailboxCommand::List;
}

const struct mailbox_info* listIterNext(struct mailbox_list_iterate_context* iter) {
    union mailbox_list_module_context* ctx = listContext(iter->list);
    const struct mailbox_info* info;
    while ((info = ctx->super.iter_next(iter)) != nullptr) {
        if (OverrideBypass::active()) return info;
        struct mail_user* user = iter->list->ns->user;
        bool hide = false, remoteChildren = false;
        guarded("list filter", [&] {
            MailboxReferralSession* session = sessionForUser(user);
            if (session == nullptr || !listingCommand(user)) return;
            // R2193-13: remote names are not LISTed here (the listing
            // commands print them themselves).
            hide = session->isRemote(info->vname);
            // RFC 3348 in a listing that shows remote names: a local parent
            // of remote mailboxes has children.
            remoteChildren = !hide && (info->flags & MAILBOX_CHILDREN) == 0 &&
                             remoteListingNow(user) &&
                             session->table().hasRemoteInferiors(info->vname);
        });
        if (hide) continue;
        if (!remoteChildren) return info;
        // The iterator's info is const and reused: a copy in its pool, valid
        // as long as the iteration, as Dovecot's own infos are.
        auto* copy = p_new(iter->pool, struct mailbox_info, 1);
        *copy = *info;
        copy->flags = static_cast<enum mailbox_info_flags>(
            (info->flags | MAILBOX_CHILDREN) & ~MAILBOX_NOCHILDREN);
        return copy;
    }
    return nullptr;
}

// Subscriptions of a relay namespace (issue 12): it has none of its own
// (subscriptions = no), so Dovecot fills its tree from the user's file with
// names relative to the namespace, and imapc's get_vname() asserts that a
// name begins with imapc_list_prefix: Dovecot 2.3.19.1 and 2.4.1 panic on
// the first subscribed name below a relay namespace
// (mailbox-list-subscriptions.c: mailbox_list_subscription_fill_one()).
// The relay namespace gets an empty tree instead; the listing commands read
// the subscriptions of remote names themselves (list_commands.cpp) and
// Dovecot's lines for them are hidden anyway.
int listSubscriptionsRefresh(struct mailbox_list* src, struct mailbox_list* dest) {
    if (isRelayNamespace(dest->ns)) {
        if (dest->subscriptions == nullptr)
            dest->subscriptions = mailbox_tree_init(mail_namespace_get_sep(src->ns));
        else
            mailbox_tree_clear(dest->subscriptions);
        return 0;
    }
    return listContext(src)->super.subscriptions_refresh(src, dest);
}

void mailboxListCreated(struct mailbox_list* list) {
    struct mailbox_list_vfuncs* v = list->vlast;
    auto* ctx = p_new(list->pool, union mailbox_list_module_context, 1);
    ctx->super = *v;
    list->vlast = &ctx->super;
    v->iter_next = listIterNext;
    if (v->subscriptions_refresh != nullptr) v->subscriptions_refresh = listSubscriptionsRefresh;
    MODULE_CONTEXT_SET_SELF(list, dref_list_module, ctx);
}

struct mail_storage_hooks g_hooks;

}  // namespace

void storageGlueInit(struct module* module) {
    g_hooks = mail_storage_hooks();
    g_hooks.mailbox_list_created = mailboxListCreated;
    g_hooks.mailbox_allocated = mailboxAllocated;
    mail_storage_hooks_add(module, &g_hooks);
}

void storageGlueDeinit() { mail_storage_hooks_remove(&g_hooks); }

}  // namespace dref
