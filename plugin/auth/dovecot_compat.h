#pragma once
// Everything in the passdb driver that differs between Dovecot 2.3 and 2.4
// (../shared design notes: DOVECOT-2.4-NOTES.md), and nothing else: the
// other glue files of this folder are version-free.  Include after the
// Dovecot headers (extern "C" block with auth-common.h): DOVECOT_PREREQ and
// the Dovecot types come from there.
#include <string>

struct auth;
struct auth_request;
struct passdb_module;

namespace dref {

// Version-free constructor of our passdb module, defined in
// passdb_module.cpp: loads the shared settings file at `path` and allocates
// the module from `pool`.  nullptr + *error ("<file>:<line>: <key>: ...")
// when the file is unusable.  Never throws.
struct passdb_module* createPassdbModule(pool_t pool, const std::string& path, std::string* error);

// The passdb preinit Dovecot calls, in the signature of the Dovecot built
// against.  Where the settings file path comes from:
//   2.3: the passdb's `args` (DREF_DEFAULT_SETTINGS_FILE when empty); a bad
//        file is fatal here (2.3 has no error return);
//   2.4: the setting referral_config of the passdb's settings event (global,
//        protocol or `passdb referral { }` filter); a bad file is returned
//        as error and Dovecot stops auth with "passdb <name>: <error>".
#if DOVECOT_PREREQ(2, 4, 0)
int passdbPreinit(pool_t pool, struct event* event, struct passdb_module** module_r,
                  const char** error_r);
#else
struct passdb_module* passdbPreinit(pool_t pool, const char* args);
#endif

// The client's connection is TLS or otherwise secured (Dovecot's view).
bool connectionSecured(const struct auth_request* request);

// The request's service (2.3 fields.service) / protocol (2.4
// fields.protocol): "imap", "pop3", "lmtp", "sieve", ...; "" when unset.
const char* requestService(const struct auth_request* request);

// Dovecot's base_dir as the auth process knows it ("" when unset): where
// the sockets of the machine's Dovecot services live.
std::string baseDir(const struct auth_request* request);

// Dovecot's own check of the client's `plain` password against a stored
// (scheme, crypted) pair (auth_request_password_verify_log; 2.4.1 adds the
// event argument and returns a passdb_result, 2.3 an int).  Dovecot logs
// the mismatch (when `logMismatch`) and every error (unknown scheme, bad
// data for the scheme) itself, never the stored value unless the admin set
// auth_debug_passwords.
enum class PasswordCheck { Ok, Mismatch, Failure };
PasswordCheck verifyPassword(struct auth_request* request, const char* plain, const char* crypted,
                             const char* scheme, bool logMismatch);

// Dovecot's "unknown user" info line for this passdb (auth_verbose).
void logUnknownUser(struct auth_request* request);

// "service imap" (2.3) / "protocol imap" (2.4), "... default" for the
// auth of no service/protocol: where an admin finds the passdb list.
std::string authScope(const struct auth* auth);

}  // namespace dref
