// The version-dependent operations of the mailbox relay (dovecot_compat.h):
// the hidden imapc namespace of a remote mailbox, and the hook that hands
// a mailbox name to it.
#include "dovecot_compat.h"
#include "dovecot_compat_relay_guard.h"

#if DOVECOT_PREREQ(2, 4, 0)
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

namespace {

const char* poolCopy(pool_t pool, const std::string& s) { return p_strdup(pool, s.c_str()); }

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

// The end of both versions' namespace set-up: `created` is
// mail_storage_create()'s result (`err` says why it failed); then the
// guard of imapc's LIST replies, then the namespace joins the user's.  On
// failure nothing is added and the namespace is freed.
bool addCreatedNamespace(struct mail_user* user, struct mail_namespace* ns, int created,
                         const char* err, const ImapcNamespaceSpec& spec, std::string* error) {
    if (created < 0) {
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
    // 0 is refused by 2.4 ("must not be 0"); unlimited is its default.
    const std::string maxLine =
        spec.maxLineLength == 0 ? std::string("unlimited") : std::to_string(spec.maxLineLength);
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
        {"*/imapc_max_line_length", maxLine.c_str()},
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
    return addCreatedNamespace(user, ns, ret, err, spec, error);
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
    imapc->imapc_max_line_length = spec.maxLineLength;  // 0: imapc's default, unlimited
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
    return addCreatedNamespace(user, ns, ret, err, spec, error);
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

}  // namespace compat
}  // namespace dref
