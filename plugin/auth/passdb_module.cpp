// Dovecot entry points of libauthdb_referral.so: the module symbols
// (authdb_referral_version/init/deinit) and the passdb driver "referral".
//
// Dovecot 2.3:                            Dovecot 2.4:
//   passdb {                                passdb pw {
//     driver = passwd-file                    driver = passwd-file
//     args = ...                              passwd_file_path = ...
//     result_success = continue-ok            result_success = continue-ok
//   }                                       }
//   passdb {                                passdb referral {
//     driver = referral                       driver = referral
//     args = /etc/dovecot/dovecot-referral.conf.ext
//                                             referral_config = /etc/dovecot/dovecot-referral.conf.ext
//     skip = unauthenticated                  skip = unauthenticated
//     result_internalfail = return-fail       result_internalfail = return-fail
//   }                                       }
// What differs between the two lives in dovecot_compat.h/.cpp.
extern "C" {
#include "auth-common.h"
#include "auth-request.h"
#include "module-dir.h"
#include "passdb.h"
}

#include <cstring>
#include <exception>
#include <string>

#include "dovecot_compat.h"
#include "dref_version.h"
#include "passdb_chain.h"
#include "referral_passdb.h"

namespace {

struct referral_passdb_module {
    struct passdb_module module;  // first: Dovecot casts between the two
    dref::ReferralPassdb* impl;
};

dref::ReferralPassdb* implOf(struct auth_request* request) {
    auto* m = reinterpret_cast<struct referral_passdb_module*>(request->passdb->passdb);
    return m->impl;
}

void referral_init(struct passdb_module* module) {
    const dref::ReferralPassdb* impl = reinterpret_cast<struct referral_passdb_module*>(module)->impl;
    std::string error = dref::checkPassdbChain(module, impl->passwordMode());
    if (!error.empty()) i_fatal("%s", error.c_str());
    i_info("dovecot-referral " DREF_VERSION ": passdb referral ready (%s, %s)",
           impl->settings().path.c_str(),
           impl->passwordMode() ? "password mode" : "chain mode");
}

void referral_deinit(struct passdb_module* module) {
    auto* m = reinterpret_cast<struct referral_passdb_module*>(module);
    try {
        delete m->impl;
    } catch (...) {
    }
    m->impl = nullptr;
}

void referral_verify_plain(struct auth_request* request, const char* /*password*/,
                           verify_plain_callback_t* callback) {
    // Chain mode: the password was checked by the earlier passdb
    // (skip = unauthenticated guarantees it).  Password mode: ReferralPassdb
    // checks request->mech_password (Dovecot's copy of this argument, kept
    // for the request's life) once the directory answered.  Never logged.
    implOf(request)->start(request, reinterpret_cast<void*>(callback), nullptr);
}

void referral_lookup_credentials(struct auth_request* request,
                                 lookup_credentials_callback_t* callback) {
    implOf(request)->start(request, nullptr, reinterpret_cast<void*>(callback));
}

struct passdb_module_interface referral_passdb_iface = {
    "referral",
    dref::passdbPreinit,  // signature of the Dovecot built against
    referral_init,
    referral_deinit,
    referral_verify_plain,
    referral_lookup_credentials,
    nullptr,  // set_credentials
};

}  // namespace

namespace dref {

struct passdb_module* createPassdbModule(pool_t pool, const std::string& path, std::string* error) {
    try {
        Settings settings;
        if (!loadSettingsFromPath(path, &settings, error)) return nullptr;
        auto* module = p_new(pool, struct referral_passdb_module, 1);
        module->impl = new ReferralPassdb(std::move(settings));
        // No default_cache_key: Dovecot's auth cache is not used for this
        // passdb, so Dovecot asks the driver at every login and the answer
        // is always decided from this request's listener, TLS, client ID and
        // mechanism.  A warm login is answered on the spot from the
        // directory's own cache (cache_ttl) or from the earlier passdb's
        // fields; a cache entry of Dovecot's would cost a second cache key
        // expansion and lookup per login, and its "Cached NULL password
        // access" line (issue 13, docs/benchmarks.md).
        // Password mode: the scheme of a stored value without {SCHEME}
        // (password_default_scheme; the driver splits the prefix itself).
        module->module.default_pass_scheme =
            !module->impl->passwordMode()
                ? "PLAIN"
                : p_strdup(pool, module->impl->settings().directory.passwordDefaultScheme.c_str());
        return &module->module;
    } catch (const std::exception& e) {
        *error = path + ": " + e.what();
    } catch (...) {
        *error = path + ": unexpected error";
    }
    return nullptr;
}

}  // namespace dref

extern "C" {
// module-dir.c reads this symbol as a `const char *` variable (not an array).
__attribute__((visibility("default"))) extern const char* authdb_referral_version;
__attribute__((visibility("default"))) void authdb_referral_init(struct module* module);
__attribute__((visibility("default"))) void authdb_referral_deinit(void);

const char* authdb_referral_version = DOVECOT_ABI_VERSION;

void authdb_referral_init(struct module* /*module*/) {
    i_info("dovecot-referral " DREF_VERSION " (passdb driver referral) loaded");
    passdb_register_module(&referral_passdb_iface);
}

void authdb_referral_deinit(void) {
    passdb_unregister_module(&referral_passdb_iface);
}
}
