// Dovecot 2.3 / 2.4 differences of the passdb driver (see dovecot_compat.h).
extern "C" {
#include "auth-common.h"
#include "auth-request.h"
#include "auth.h"
#include "passdb.h"
}


#include "dovecot_compat.h"
#include "dref_version.h"
#if DOVECOT_PREREQ(2, 4, 0)
#include "referral_settings.h"
#endif

namespace dref {

namespace {

#if !DOVECOT_PREREQ(2, 4, 0)
std::string trim(const char* s) {
    std::string out(s != nullptr ? s : "");
    size_t b = out.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    size_t e = out.find_last_not_of(" \t");
    return out.substr(b, e - b + 1);
}
#endif

}  // namespace

#if DOVECOT_PREREQ(2, 4, 0)

int passdbPreinit(pool_t pool, struct event* event, struct passdb_module** module_r,
                  const char** error_r) {
    std::string path;
    std::string error;
    struct passdb_module* module = nullptr;
    try {
        if (referralConfigPath(event, &path, &error))
            module = createPassdbModule(pool, path, &error);
    } catch (...) {  // std::bad_alloc of the strings above
        error = "out of memory";
    }
    if (module == nullptr) {
        // Dovecot copies nothing: the message must outlive this frame until
        // its i_fatal("passdb <name>: %s"), so it goes to the module's pool.
        *error_r = p_strdup(pool, error.c_str());
        return -1;
    }
    *module_r = module;
    return 0;
}

bool connectionSecured(const struct auth_request* request) {
    return request->fields.conn_secured != AUTH_REQUEST_CONN_SECURED_NONE;
}

const char* requestService(const struct auth_request* request) {
    return request->fields.protocol != nullptr ? request->fields.protocol : "";
}

std::string baseDir(const struct auth_request* request) {
    return request->set != nullptr && request->set->base_dir != nullptr ? request->set->base_dir
                                                                        : "";
}

PasswordCheck verifyPassword(struct auth_request* request, const char* plain, const char* crypted,
                             const char* scheme, bool logMismatch) {
    switch (auth_request_password_verify_log(request, authdb_event(request), plain, crypted, scheme,
                                             logMismatch)) {
    case PASSDB_RESULT_OK: return PasswordCheck::Ok;
    case PASSDB_RESULT_PASSWORD_MISMATCH: return PasswordCheck::Mismatch;
    default: return PasswordCheck::Failure;  // unknown scheme, data invalid for the scheme
    }
}

void logUnknownUser(struct auth_request* request) {
    auth_request_log_unknown_user(request, authdb_event(request));
}

std::string authScope(const struct auth* auth) {
    return std::string("protocol ") + (auth->protocol != nullptr ? auth->protocol : "default");
}

#else  // Dovecot 2.3

struct passdb_module* passdbPreinit(pool_t pool, const char* args) {
    std::string error;
    struct passdb_module* module = nullptr;
    try {
        std::string path = trim(args);
        if (path.empty()) path = DREF_DEFAULT_SETTINGS_FILE;
        module = createPassdbModule(pool, path, &error);
    } catch (...) {  // std::bad_alloc of the strings above
        error = "out of memory";
    }
    // The auth process cannot serve logins with a broken settings file, and
    // 2.3's preinit has no error return: stop it here, with the file, line
    // and key in the message.
    if (module == nullptr) i_fatal("passdb referral: %s", error.c_str());
    return module;
}

bool connectionSecured(const struct auth_request* request) {
    return request->fields.secured != AUTH_REQUEST_SECURED_NONE;
}

const char* requestService(const struct auth_request* request) {
    return request->fields.service != nullptr ? request->fields.service : "";
}

std::string baseDir(const struct auth_request* request) {
    return request->set != nullptr && request->set->base_dir != nullptr ? request->set->base_dir
                                                                        : "";
}

PasswordCheck verifyPassword(struct auth_request* request, const char* plain, const char* crypted,
                             const char* scheme, bool logMismatch) {
    // 1 match, 0 mismatch, -1 error (logged: unknown scheme, data invalid
    // for the scheme).
    const int ret = auth_request_password_verify_log(request, plain, crypted, scheme,
                                                     AUTH_SUBSYS_DB, logMismatch);
    return ret > 0 ? PasswordCheck::Ok : ret == 0 ? PasswordCheck::Mismatch : PasswordCheck::Failure;
}

void logUnknownUser(struct auth_request* request) {
    auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
}

std::string authScope(const struct auth* auth) {
    return std::string("service ") + (auth->service != nullptr ? auth->service : "default");
}

#endif

}  // namespace dref
