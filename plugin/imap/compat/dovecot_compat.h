#pragma once
// The imap plugin's one contact surface with Dovecot's headers, and the only
// place where Dovecot 2.3 and 2.4 differ for it (docs/dovecot-2.4.md, "imap
// plugin on 2.4").  Every other glue file of plugin/imap includes this and
// is written once for both versions; the few version-dependent operations
// are the functions below, chosen with DOVECOT_PREREQ in the compat layer's
// files: dovecot_compat_session.cpp (the settings path, the IMAP command
// table), dovecot_compat_relay.cpp (the relay namespace, the storage
// redirect) and dovecot_compat_relay_guard.{h,cpp} (imapc's LIST replies).
//
// The headers are C without extern "C" guards (DOVECOT-NOTES §4.1), so they
// are wrapped here.  No login-side header may ever join them (each side
// defines its own struct client).
#include <cstdint>
#include <string>

extern "C" {
#include "lib.h"
}

#if DOVECOT_PREREQ(2, 4, 0)
// 2.4's HASH_TABLE() union has a member `const key_type _const_key`; with a
// key type that is already const (mailbox-list-private.h declares
// HASH_TABLE(const char *, void *) found_mailboxes) that spells
// `const const char *`, legal in C and an error in C++.  The same union is
// declared here with __typeof__, which lets C++ add the const to the key
// type instead of repeating it.  Member names, types' sizes and the layout
// are unchanged (every member is the key, the value or a pointer); the glue
// never uses these tables, it only needs the structs that contain them.
#pragma push_macro("HASH_TABLE")
#undef HASH_TABLE
#define HASH_TABLE(key_type, value_type)      \
    union {                                   \
        struct hash_table* _table;            \
        key_type _key;                        \
        key_type* _keyp;                      \
        const __typeof__(key_type) _const_key; \
        value_type _value;                    \
        value_type* _valuep;                  \
    }
#endif

extern "C" {
#include "array.h"
#include "str.h"
#include "str-sanitize.h"
#include "ioloop.h"
#include "istream.h"
#include "module-context.h"
#include "imap-common.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-quote.h"
#include "imap-utf7.h"
#include "mail-error.h"
#include "mail-namespace.h"
#include "mail-storage-private.h"
#include "mail-storage-hooks.h"
#include "mailbox-list-private.h"
#include "mailbox-list-iter.h"
#include "mailbox-tree.h"
#include "mail-user.h"
}

#if DOVECOT_PREREQ(2, 4, 0)
#pragma pop_macro("HASH_TABLE")
#endif

namespace dref {
namespace compat {

// Path of the shared settings file for `user`'s session, false + *error when
// Dovecot's settings cannot give it (never throws).
//   2.3: plugin { referral_config = ... } (mail_user_plugin_getenv);
//   2.4: the `referral_config` setting of our settings module, as the
//        user's event filters see it (global, protocol imap { }, ...).
// Unset or empty: DREF_DEFAULT_SETTINGS_FILE.
bool referralConfigPath(struct mail_user* user, std::string* path, std::string* error) noexcept;

// Where the admin sets referral_config, for error messages ("plugin {
// referral_config }" on 2.3, "referral_config" on 2.4).
const char* referralConfigSettingName() noexcept;

// A hidden namespace of Dovecot's imapc storage for one remote mailbox
// (docs/mailbox-relay.md): `prefix` (the entry's name in the user's view
// plus the separator) routes the entry and every name below it there, and
// Dovecot's imapc list maps them to `remotePrefix` and below on the owner.
struct ImapcNamespaceSpec {
    std::string name;          // namespace name (for Dovecot's logs and isRelayNamespace)
    std::string prefix;
    char separator = '/';
    std::string host;
    uint16_t port = 143;
    std::string user;          // logged in as this user ...
    std::string masterUser;    // ... authenticated as this master user
    std::string password;      // the master user's password
    std::string remotePrefix;  // imapc_list_prefix: the owner's name of the entry (modified UTF-7)
    unsigned int prefetchCount = 0;  // mail_prefetch_count of the namespace's storage
    // The connection (plugin/core/mailbox_relay/relay_connection.h: ImapcConnection).
    std::string ssl = "no";          // imapc_ssl: no, imaps, starttls
    bool verifyCertificate = true;   // 2.3 imapc_ssl_verify, 2.4 ssl_client_require_valid_cert
    std::string caFile;              // ssl_client_ca_file for this namespace; "" = Dovecot's
    unsigned int timeoutSeconds = 30;  // imapc_cmd_timeout (2.4: + imapc_connection_timeout_interval)
    uint64_t maxLineLength = 0;      // imapc_max_line_length; 0: imapc's default (unlimited)
    // The serial of the user's current IMAP command: the reply filter counts
    // the owner's untagged replies per command (owner_reply_bounds.h).
    uint64_t (*commandSerial)(struct mail_user* user) noexcept = nullptr;
};

// Allocates the namespace with its own copy of the user's settings (imapc
// settings from `spec`, in-memory indexes: nothing of the mailbox is stored
// here beyond imapc's own cache) and adds it to the user's namespaces.  Its
// connection opens when it is first used.  False + *error when Dovecot
// refuses it (nothing is added then).
//   2.3: mail_namespace_alloc() with the settings copy, mail_storage_create(),
//        mail_user_add_namespace().  2.3 has no per-namespace CA and no
//        setting for imapc's connect/login timeout (fixed 30 s): a caFile is
//        put into the user's SSL client settings only while the storage is
//        created (imapc copies them into its client then), and the timeout
//        applies to commands;
//   2.4: a settings instance with the imapc values as code overrides on the
//        event given to mail_storage_create(), then mail_user_add_namespace().
bool addImapcNamespace(struct mail_user* user, const ImapcNamespaceSpec& spec,
                       std::string* error) noexcept;

// Lets `redirect` hand a mailbox name of `list` to another namespace before
// Dovecot picks the name's storage (mailbox_alloc() ->
// mailbox_list_get_storage()): when it returns a namespace, the mailbox is
// allocated in that namespace's list and storage.  Dovecot's shared
// namespaces do the same for the user namespaces they create on demand
// (index/shared/shared-list.c: shared_get_storage(), both versions).  Every
// command that names a mailbox allocates it this way, so one hook covers
// them all.  nullptr: the list's own storage, as without the hook.
//   2.3: get_storage(list**, vname, storage**); a list without that vfunc
//        keeps mailbox_list_get_storage()'s default (mailbox driver setting,
//        else the namespace's storage);
//   2.4: get_storage(list**, &vname, flags, storage**), always set.
using StorageRedirect = struct mail_namespace* (*)(struct mailbox_list* list,
                                                   const char* vname) noexcept;
void redirectStorageLookups(struct mailbox_list* list, StorageRedirect redirect) noexcept;

// Makes the registered IMAP command `name` run `func` and returns the
// function it ran before, nullptr when no such command is registered.  2.4's
// command_find() gives a const command, so the entry is replaced through the
// public register API (same name pointer, same flags) on both versions
// rather than written through the pointer.
command_func_t* replaceCommandFunc(const char* name, command_func_t* func) noexcept;

// Gives `name` back its function `original` if it still runs `ours` (another
// plugin may have wrapped it after us: then it is left alone).
void restoreCommandFunc(const char* name, command_func_t* ours, command_func_t* original) noexcept;

}  // namespace compat
}  // namespace dref
