// The version-dependent operations of the imap plugin (dovecot_compat.h).
#include "dovecot_compat.h"

#include "dref_version.h"
#include "owner_listing.h"
#include "response_text.h"

// imapc's list and client structs: the relay guards the untagged LIST/LSUB
// replies of its imapc client (guardListReplies below).  The same members
// exist in 2.3.19.1 and 2.4.1.
extern "C" {
#include "imap-arg.h"
#include "imapc-client-private.h"
#include "imapc-connection.h"
#include "imapc-storage.h"
#include "imapc-list.h"
}

#if DOVECOT_PREREQ(2, 4, 0)
#include "referral_settings.h"
// Through its directory: a plain "settings.h" is plugin/core's.
extern "C" {
#include <dovecot/settings.h>
#include "mail-storage-service.h"
}
#else
extern "C" {
#include "settings-parser.h"
#include "master-service-ssl-settings.h"
#include "mail-storage-service.h"
#include "imapc-settings.h"
}
#endif

namespace dref {
namespace compat {

bool referralConfigPath(struct mail_user* user, std::string* path, std::string* error) noexcept {
    try {
#if DOVECOT_PREREQ(2, 4, 0)
        // 2.4 has no plugin {} section: referral_config is a typed setting
        // of our settings module, looked up through the user's event so
        // that protocol imap { } and other filters apply.
        std::string configured;
        if (!::referralConfigPath(user->event, &configured, error)) {
            // The one failure an admin meets on a fresh install: the plugin
            // is enabled but our settings module is not where Dovecot's
            // config process loads settings modules from.
            if (error->find("no settings struct") != std::string::npos)
                *error += " (is libdovecot_referral_settings.so installed in Dovecot's "
                          "modules/settings directory?)";
            return false;
        }
        *path = configured.empty() ? std::string(DREF_DEFAULT_SETTINGS_FILE) : configured;
#else
        const char* configured = mail_user_plugin_getenv(user, "referral_config");
        *path = configured != nullptr && *configured != '\0' ? configured
                                                             : DREF_DEFAULT_SETTINGS_FILE;
        (void)error;
#endif
        return true;
    } catch (...) {
        // std::bad_alloc from the strings; assigning the message could throw
        // again, and nothing may leave this noexcept function.
        try {
            *error = "out of memory reading referral_config";
        } catch (...) {
        }
    }
    return false;
}

const char* referralConfigSettingName() noexcept {
#if DOVECOT_PREREQ(2, 4, 0)
    return "referral_config";
#else
    return "plugin { referral_config }";
#endif
}

namespace {

const char* poolCopy(pool_t pool, const std::string& s) { return p_strdup(pool, s.c_str()); }

// Sits between a relay namespace's imapc client and imapc's own handler of
// untagged replies, and drops LIST/LSUB answers whose mailbox is not at or
// below imapc_list_prefix: imapc asserts that they are (imapc-list.c:
// imapc_list_get_vname()) and the imap process would panic on an owner's
// sibling "<prefix>Old" or on any hostile name.  The rule is
// classifyOwnerListReply() (plugin/core).  It also bounds one answer
// (ownerAnswerOverBound()) and drops every LSUB (see guardedUntagged()).
struct ListReplyGuard {
    imapc_untagged_callback_t* original;
    void* originalContext;
    // The relay's imapc client, whose connections are dropped when an
    // answer passes its bound.
    struct imapc_client* client;
    // LIST names of the current answer handed to imapc.
    size_t passed;
    // Whose list's separator imapc maps every name with (its _list is what
    // imapc's own LIST handler reads; the client lives as long as any
    // reply can reach this guard).
    const struct imapc_storage_client* storageClient;
    const char* prefix;  // imapc_list_prefix, modified UTF-7
    const char* username;
    unsigned int dropped;
};

constexpr unsigned int kLoggedDrops = 5;

// imapc starts every listing of the owner's names with an empty mailbox
// tree (imapc-list.c: imapc_list_refresh() replaces it before it sends
// LIST), so an empty tree is where a new answer begins.
bool treeIsEmpty(struct mailbox_tree_context* tree) {
    if (tree == nullptr) return true;
    struct mailbox_tree_iterate_context* iter = mailbox_tree_iterate_init(tree, nullptr, 0);
    const char* path;
    const bool empty = mailbox_tree_iterate_next(iter, &path) == nullptr;
    mailbox_tree_iterate_deinit(&iter);
    return empty;
}

// Ends the owner's answer: every connection of the relay's imapc client is
// disconnected, which fails the commands waiting on it ("Disconnected from
// server"; imapc_connection_disconnect() does not retry them, unlike a
// connection the owner broke) and stops imapc's command loop.  imapc
// itself disconnects from inside its input handler on bad input
// (imapc_connection_input_error()), and keeps its parser alive across the
// untagged callback for that ("the callback may disconnect",
// imapc-connection.c: imapc_connection_input_untagged(), 2.3.19.1 and
// 2.4.1); imapc_client_disconnect() would instead free the connections
// under the running handler.  The next command reconnects.
// The array is read again after each disconnect: the failed commands'
// callbacks run inside imapc_connection_disconnect().
void dropOwnerConnections(struct imapc_client* client) {
    for (unsigned int i = 0;; ++i) {
        unsigned int count = 0;
        struct imapc_client_connection* const* conns = array_get(&client->conns, &count);
        if (i >= count) return;
        imapc_connection_disconnect(conns[i]->conn);
    }
}

void guardedUntagged(const struct imapc_untagged_reply* reply, void* context) {
    auto* g = static_cast<ListReplyGuard*>(context);
    const char* name = nullptr;
    if (reply->name != nullptr &&
        (strcasecmp(reply->name, "LIST") == 0 || strcasecmp(reply->name, "LSUB") == 0) &&
        !IMAP_ARG_IS_EOL(&reply->args[0]) && !IMAP_ARG_IS_EOL(&reply->args[1]) &&
        imap_arg_get_astring(&reply->args[2], &name)) {
        // The separator imapc maps names with is the one of the owner's
        // first LIST answer (imapc_untagged_list(): root_sep), not the one
        // a later line claims: "<prefix>.x" said to have separator "." is
        // still a sibling for imapc, and asserts there.  Before that first
        // answer imapc reads only the separator of a LIST line (and ignores
        // LSUB), so nothing of the name can reach its assertions.
        const struct imapc_mailbox_list* list = g->storageClient->_list;
        if (list == nullptr || list->root_sep == '\0') {
            g->original(reply, g->originalContext);
            return;
        }
        // A relay namespace has no subscriptions (subscriptions = no), so
        // imapc never asks LSUB there; imapc would still put an LSUB line
        // into the list's subscription tree (imapc_untagged_lsub()), and
        // three of them killed the imap process with signal 11 (2.3.19.1).
        const bool lsub = strcasecmp(reply->name, "LSUB") == 0;
        const OwnerListReply verdict =
            lsub ? OwnerListReply::Refuse : classifyOwnerListReply(name, g->prefix, list->root_sep);
        // imapc's LIST "" "<prefix>*" also matches the owner's siblings
        // ("<prefix>Old"): expected, dropped quietly.  Anything else was not
        // asked for or is no modified UTF-7 name: a warning (the first few
        // per relay namespace).
        if (verdict == OwnerListReply::Sibling) return;
        if (verdict == OwnerListReply::Refuse) {
            if (g->dropped++ >= kLoggedDrops) return;
            try {
                i_warning("mailbox relay: user=%s: the owner of %s answered %s %s, %s: ignored",
                          quoteForLog(g->username).c_str(), quoteForLog(g->prefix).c_str(),
                          lsub ? "LSUB" : "LIST", quoteForLog(name).c_str(),
                          lsub ? "which the relay never asks" : "not a name in that subtree");
            } catch (...) {
            }
            return;
        }
        if (treeIsEmpty(list->mailboxes)) g->passed = 0;
        if (ownerAnswerOverBound(++g->passed)) {
            try {
                i_warning("mailbox relay: user=%s: the owner of %s answered more than %zu names "
                          "to one LIST: connection dropped",
                          quoteForLog(g->username).c_str(), quoteForLog(g->prefix).c_str(),
                          kMaxOwnerRepliesPerAnswer);
            } catch (...) {
            }
            dropOwnerConnections(g->client);
            return;
        }
    }
    g->original(reply, g->originalContext);
}

// Installs the guard on the namespace's imapc client (before any reply can
// be read: the client connects at the first command, replies are read when
// an ioloop runs).  False when the namespace's list is not imapc's.
bool guardListReplies(struct mail_namespace* ns, const ImapcNamespaceSpec& spec, std::string* error) {
    if (ns->list == nullptr || strcmp(ns->list->name, "imapc") != 0) {
        *error = "the relay namespace's mailbox list is not imapc";
        return false;
    }
    auto* list = reinterpret_cast<struct imapc_mailbox_list*>(ns->list);
    struct imapc_client* client = list->client != nullptr ? list->client->client : nullptr;
    if (client == nullptr || client->untagged_callback == nullptr) {
        *error = "the relay namespace has no imapc client";
        return false;
    }
    auto* g = p_new(ns->user->pool, struct ListReplyGuard, 1);
    g->original = client->untagged_callback;
    g->originalContext = client->untagged_context;
    g->storageClient = list->client;
    g->client = client;
    g->prefix = poolCopy(ns->user->pool, spec.remotePrefix);
    g->username = p_strdup(ns->user->pool, ns->user->username);
    imapc_client_register_untagged(client, guardedUntagged, g);
    return true;
}

// The namespace itself, the same on both versions: hidden, not listed (the
// plugin lists the directory's entries), no subscriptions of its own.
struct mail_namespace_settings* relayNamespaceSettings(pool_t pool, const ImapcNamespaceSpec& spec) {
    auto* ns_set = p_new(pool, struct mail_namespace_settings, 1);
    ns_set->name = poolCopy(pool, spec.name);
    ns_set->type = "public";
    ns_set->separator = p_strdup_printf(pool, "%c", spec.separator);
    ns_set->prefix = poolCopy(pool, spec.prefix);
    ns_set->alias_for = "";
    ns_set->list = "no";
    ns_set->hidden = TRUE;
    ns_set->subscriptions = FALSE;
    return ns_set;
}

#if DOVECOT_PREREQ(2, 4, 0)
// 2.4: settings are looked up through events; a namespace's storage and
// list take theirs from the event given to mail_storage_create().  A
// settings instance with code overrides on that event gives this
// namespace its own imapc settings, as 2.4's shared storage does for the
// namespaces it creates at run time (index/shared/shared-storage.c).  The
// namespace owns the instance (ns->_set_instance, freed with it).
bool addImapcNamespace24(struct mail_user* user, const ImapcNamespaceSpec& spec,
                         std::string* error) {
    struct mail_namespace* ns = nullptr;
    const char* err = nullptr;
    if (mail_namespace_alloc(user, relayNamespaceSettings(user->pool, spec), &ns, &err) < 0) {
        *error = err != nullptr ? err : "mail_namespace_alloc failed";
        return false;
    }
    // A public namespace has no owner, and 2.4.1's imapc dereferences it:
    // imapc-attribute.c: imapc_storage_attribute_handling() compares
    // ns->user->username with ns->owner->username for private attributes,
    // which every DELETE reaches (index_storage_mailbox_delete_pre() ->
    // mailbox_attribute_iter_init()) and every GETMETADATA/SETMETADATA:
    // SIGSEGV.  The relay logs in to the owning server as this user, so
    // the user is what imapc sees as the owner; the namespace stays public
    // (hidden, no INBOX).  mail_namespace_free() unrefs an owner only when
    // it is not ns->user.
    ns->owner = user;
    ns->_set_instance = settings_instance_dup(
        mail_storage_service_user_get_settings_instance(user->service_user));
    const std::string port = std::to_string(spec.port);
    const std::string prefetch = std::to_string(spec.prefetchCount);
    const std::string timeout = std::to_string(spec.timeoutSeconds) + "s";
    const std::pair<const char*, const char*> overrides[] = {
        {"*/mail_driver", "imapc"},
        {"*/mail_path", ""},  // imapc keeps its index in memory
        {"*/mailbox_list_layout", "imapc"},
        {"*/imapc_host", spec.host.c_str()},
        {"*/imapc_port", port.c_str()},
        {"*/imapc_user", spec.user.c_str()},
        {"*/imapc_master_user", spec.masterUser.c_str()},
        {"*/imapc_password", spec.password.c_str()},
        {"*/imapc_list_prefix", spec.remotePrefix.c_str()},
        {"*/mail_prefetch_count", prefetch.c_str()},
        // imapc_features: 2.4's defaults already ask the owner for sizes,
        // headers and SEARCH (its list names only the opposites, no-search...).
        {"*/imapc_ssl", spec.ssl.c_str()},
        // One bound for connect + login and for each command.
        {"*/imapc_cmd_timeout", timeout.c_str()},
        {"*/imapc_connection_timeout_interval", timeout.c_str()},
        // 2.4 has no imapc_ssl_verify: imapc checks with the SSL client settings.
        {"*/ssl_client_require_valid_cert", spec.verifyCertificate ? "yes" : "no"},
        // imapc's own escape characters (imapc-settings.c, the
        // layout_imapc defaults; 2.3's imapc always uses them), not the
        // site's: the instance copies the user's settings, and a site's
        // mailbox_list_storage_escape_char (e.g. "+") replaces imapc's
        // default there.  imapc escapes that character in the owner's
        // names, then strips imapc_list_prefix from them unescaped
        // (imapc-list.c: imapc_list_remote_to_storage_name(),
        // imapc_list_get_vname(): i_unreached()), so an entry whose
        // owner's name holds it panicked the imap process at its listing
        // (lab test test_site_storage_escape_char_does_not_reach_the_relay).
        {"*/mailbox_list_storage_escape_char", "%"},
        {"*/mailbox_list_visible_escape_char", "~"},
    };
    for (const auto& o : overrides)
        settings_override(ns->_set_instance, o.first, o.second, SETTINGS_OVERRIDE_TYPE_CODE);
    if (!spec.caFile.empty()) {
        // Only this CA for the relay's connections (read by this process,
        // as the mail user, when imapc starts TLS).
        settings_override(ns->_set_instance, "*/ssl_client_ca_file", spec.caFile.c_str(),
                          SETTINGS_OVERRIDE_TYPE_CODE);
        settings_override(ns->_set_instance, "*/ssl_client_ca_dir", "",
                          SETTINGS_OVERRIDE_TYPE_CODE);
    }
    struct event* set_event = event_create(user->event);
    event_set_ptr(set_event, SETTINGS_EVENT_INSTANCE, ns->_set_instance);
    struct mail_storage* storage = nullptr;
    int ret = mail_storage_create(ns, set_event, static_cast<enum mail_storage_flags>(0), &storage,
                                  &err);
    event_unref(&set_event);
    if (ret < 0) {
        *error = err != nullptr ? err : "mail_storage_create failed";
        mail_namespace_destroy(ns);
        return false;
    }
    if (!guardListReplies(ns, spec, error)) {
        mail_namespace_destroy(ns);
        return false;
    }
    mail_user_add_namespace(user, &ns);
    return true;
}
#else

// 2.3 reads the CA of imapc's TLS from the user's SSL client settings
// (mail_user_init_ssl_client_settings(), called by
// imapc_storage_client_create()), not from the imapc settings, and imapc
// copies them into its client when the storage is created
// (imapc_client_init(): ssl_iostream_settings_init_from()).  So the relay's
// CA is put there for that call only and the user's values come back
// right after: other SSL clients of the session keep Dovecot's settings.
class RelayCaOverride {
public:
    RelayCaOverride(struct mail_user* user, const std::string& caFile) {
        if (caFile.empty() || user->_service_user == nullptr) return;
        set_ = const_cast<struct master_service_ssl_settings*>(
            mail_storage_service_user_get_ssl_settings(user->_service_user));
        if (set_ == nullptr) return;
        oldFile_ = set_->ssl_client_ca_file;
        oldDir_ = set_->ssl_client_ca_dir;
        set_->ssl_client_ca_file = p_strdup(user->pool, caFile.c_str());
        set_->ssl_client_ca_dir = "";
    }
    ~RelayCaOverride() {
        if (set_ == nullptr) return;
        set_->ssl_client_ca_file = oldFile_;
        set_->ssl_client_ca_dir = oldDir_;
    }
    RelayCaOverride(const RelayCaOverride&) = delete;
    RelayCaOverride& operator=(const RelayCaOverride&) = delete;

private:
    struct master_service_ssl_settings* set_ = nullptr;
    const char* oldFile_ = nullptr;
    const char* oldDir_ = nullptr;
};

// 2.3: the namespace's settings are a struct mail_user_settings that holds
// every storage driver's settings behind it (the "dynamic parsers",
// settings_find_dynamic()).  imapc reads its settings from the namespace's
// copy (mail_namespace_get_driver_settings(), imapc_list_init()), so a copy
// with other imapc_* values is a namespace of its own, and its storage is
// not shared with another namespace: imapc's unique_root_dir is its
// serialised settings, never equal to a root_dir (mail_storage_match_class).
bool addImapcNamespace23(struct mail_user* user, const ImapcNamespaceSpec& spec,
                         std::string* error) {
    pool_t pool = user->pool;
    const struct setting_parser_info* info = user->set_info;
    // A byte copy keeps the fields that are no settings (the parsed_*
    // values computed by the settings checks); the strings it points to
    // live in the user's settings pool, which outlives the namespace.
    void* set = p_malloc(pool, info->struct_size);
    memcpy(set, user->set, info->struct_size);
    auto* imapc = static_cast<struct imapc_settings*>(
        const_cast<void*>(settings_find_dynamic(info, set, "imapc")));
    if (imapc == nullptr) {
        *error = "Dovecot's imapc storage settings are not available in this process";
        return false;
    }
    imapc->imapc_host = poolCopy(pool, spec.host);
    imapc->imapc_port = spec.port;
    imapc->imapc_user = poolCopy(pool, spec.user);
    imapc->imapc_master_user = poolCopy(pool, spec.masterUser);
    imapc->imapc_password = poolCopy(pool, spec.password);
    imapc->imapc_list_prefix = poolCopy(pool, spec.remotePrefix);
    imapc->imapc_sasl_mechanisms = "";
    imapc->imapc_ssl = poolCopy(pool, spec.ssl);
    imapc->imapc_ssl_verify = spec.verifyCertificate;
    imapc->imapc_cmd_timeout = spec.timeoutSeconds;
    imapc->imapc_rawlog_dir = "";
    // The owner is a Dovecot: sizes, header fetches and SEARCH are asked of
    // it instead of being computed here from whole messages (2.4's defaults).
    imapc->imapc_features = "rfc822.size fetch-headers search";
    imapc->parsed_features = static_cast<enum imapc_features>(
        IMAPC_FEATURE_RFC822_SIZE | IMAPC_FEATURE_FETCH_HEADERS | IMAPC_FEATURE_SEARCH);

    // The storage's settings (ns->mail_set, storage->set) are another
    // dynamic section of the same copy.
    auto* storage = static_cast<struct mail_storage_settings*>(
        const_cast<void*>(settings_find_dynamic(info, set, MAIL_STORAGE_SET_DRIVER_NAME)));
    if (storage == nullptr) {
        *error = "Dovecot's mail storage settings are not available in this process";
        return false;
    }
    storage->mail_prefetch_count = spec.prefetchCount;

    struct mail_namespace_settings* ns_set = relayNamespaceSettings(pool, spec);
    // "imapc:" without a path: imapc keeps its index in memory.
    ns_set->location = "imapc:";
    ns_set->user_set = static_cast<struct mail_user_settings*>(set);

    struct mail_namespace* ns = nullptr;
    const char* err = nullptr;
    if (mail_namespace_alloc(user, set, ns_set, ns_set, &ns, &err) < 0) {
        *error = err != nullptr ? err : "mail_namespace_alloc failed";
        return false;
    }
    int ret;
    {
        RelayCaOverride ca(user, spec.caFile);
        ret = mail_storage_create(ns, nullptr, static_cast<enum mail_storage_flags>(0), &err);
    }
    if (ret < 0) {
        *error = err != nullptr ? err : "mail_storage_create failed";
        mail_namespace_destroy(ns);
        return false;
    }
    if (!guardListReplies(ns, spec, error)) {
        mail_namespace_destroy(ns);
        return false;
    }
    mail_user_add_namespace(user, &ns);
    return true;
}
#endif

}  // namespace

bool addImapcNamespace(struct mail_user* user, const ImapcNamespaceSpec& spec,
                       std::string* error) noexcept {
    try {
#if DOVECOT_PREREQ(2, 4, 0)
        return addImapcNamespace24(user, spec, error);
#else
        return addImapcNamespace23(user, spec, error);
#endif
    } catch (...) {
        try {
            *error = "out of memory";
        } catch (...) {
        }
    }
    return false;
}

namespace {

MODULE_CONTEXT_DEFINE_INIT(dref_redirect_list_module, &mailbox_list_module_register);

struct RedirectContext {
    union mailbox_list_module_context module;  // first: MODULE_CONTEXT_SET_SELF
    StorageRedirect redirect;
};

RedirectContext* redirectContext(struct mailbox_list* list) {
    return static_cast<RedirectContext*>(MODULE_CONTEXT(list, dref_redirect_list_module));
}

#if DOVECOT_PREREQ(2, 4, 0)
int redirectGetStorage(struct mailbox_list** list, const char** vname,
                       enum mailbox_list_get_storage_flags flags, struct mail_storage** storage) {
    RedirectContext* ctx = redirectContext(*list);
    struct mail_namespace* ns = ctx->redirect(*list, *vname);
    if (ns != nullptr && ns->list != *list) {
        *list = ns->list;
        return mailbox_list_get_storage(list, vname, flags, storage);
    }
    return ctx->module.super.get_storage(list, vname, flags, storage);
}
#else
int redirectGetStorage(struct mailbox_list** list, const char* vname, struct mail_storage** storage) {
    struct mailbox_list* own = *list;
    RedirectContext* ctx = redirectContext(own);
    struct mail_namespace* ns = ctx->redirect(own, vname);
    if (ns != nullptr && ns->list != own) {
        *list = ns->list;
        return mailbox_list_get_storage(list, vname, storage);
    }
    if (ctx->module.super.get_storage != nullptr)
        return ctx->module.super.get_storage(list, vname, storage);
    // Dovecot's default is the body of mailbox_list_get_storage() for a
    // list without the vfunc: run it with the vfunc unset for this call.
    auto* saved = own->v.get_storage;
    own->v.get_storage = nullptr;
    int ret = mailbox_list_get_storage(list, vname, storage);
    own->v.get_storage = saved;
    return ret;
}
#endif

}  // namespace

void redirectStorageLookups(struct mailbox_list* list, StorageRedirect redirect) noexcept {
    struct mailbox_list_vfuncs* v = list->vlast;
    auto* ctx = p_new(list->pool, RedirectContext, 1);
    ctx->module.super = *v;
    ctx->redirect = redirect;
    list->vlast = &ctx->module.super;
    v->get_storage = redirectGetStorage;
    MODULE_CONTEXT_SET_SELF(list, dref_redirect_list_module, &ctx->module);
}

command_func_t* replaceCommandFunc(const char* name, command_func_t* func) noexcept {
    const struct command* command = command_find(name);
    if (command == nullptr) return nullptr;
    // Copies first: unregistering moves other entries into the array slot
    // `command` points to.
    const char* registeredName = command->name;
    command_func_t* previous = command->func;
    const enum command_flags flags = command->flags;
    command_unregister(registeredName);
    command_register(registeredName, func, flags);
    return previous;
}

void restoreCommandFunc(const char* name, command_func_t* ours, command_func_t* original) noexcept {
    const struct command* command = command_find(name);
    if (command == nullptr || command->func != ours || original == nullptr) return;
    const char* registeredName = command->name;
    const enum command_flags flags = command->flags;
    command_unregister(registeredName);
    command_register(registeredName, original, flags);
}

}  // namespace compat
}  // namespace dref
