#include "ldap_api.h"

#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <type_traits>

#ifndef DREF_LDAP_SONAME
#error "DREF_LDAP_SONAME (the libldap SONAME) must be defined by the build"
#endif

namespace dref::ldap {
namespace {

template <typename Fn>
bool resolve(void* handle, const char* soname, const char* name, Fn* slot, std::string* error) {
    dlerror();
    void* sym = dlsym(handle, name);
    if (sym == nullptr) {
        const char* why = dlerror();
        *error = std::string("cannot load LDAP library ") + soname + ": symbol " + name +
                 " not found" + (why != nullptr ? std::string(" (") + why + ")" : std::string());
        return false;
    }
    if constexpr (std::is_same_v<Fn, void*>) {
        *slot = sym;
    } else {
        *slot = reinterpret_cast<Fn>(sym);
    }
    return true;
}

}  // namespace

const LdapApi* loadLdapApiFrom(const char* soname, std::string* error) {
    dlerror();
    // RTLD_LOCAL: libldap's symbols stay out of the global namespace, so
    // nothing else in the process binds to them by accident.
    void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        *error = std::string("cannot load LDAP library ") + soname + ": " +
                 (why != nullptr ? why : "dlopen failed");
        return nullptr;
    }
    auto api = std::make_unique<LdapApi>();
    // ber_free, ber_memfree, ber_pvt_opt_on and the Sockbuf calls live in liblber; dlsym on the libldap handle searches its
    // dependencies too.
    const bool ok = resolve(handle, soname, "ldap_initialize", &api->initialize, error) &&
                    resolve(handle, soname, "ldap_set_option", &api->set_option, error) &&
                    resolve(handle, soname, "ldap_get_option", &api->get_option, error) &&
                    resolve(handle, soname, "ldap_err2string", &api->err2string, error) &&
                    resolve(handle, soname, "ldap_memfree", &api->memfree, error) &&
                    resolve(handle, soname, "ldap_unbind_ext", &api->unbind_ext, error) &&
                    resolve(handle, soname, "ldap_start_tls_s", &api->start_tls_s, error) &&
                    resolve(handle, soname, "ldap_sasl_bind_s", &api->sasl_bind_s, error) &&
                    resolve(handle, soname, "ldap_connect", &api->connect, error) &&
                    resolve(handle, soname, "ldap_search_ext", &api->search_ext, error) &&
                    resolve(handle, soname, "ldap_abandon_ext", &api->abandon_ext, error) &&
                    resolve(handle, soname, "ldap_get_dn_ber", &api->get_dn_ber, error) &&
                    resolve(handle, soname, "ldap_get_attribute_ber", &api->get_attribute_ber,
                            error) &&
                    resolve(handle, soname, "ber_memfree", &api->ber_memfree, error) &&
                    resolve(handle, soname, "ber_free", &api->ber_free, error) &&
                    resolve(handle, soname, "ldap_result", &api->result, error) &&
                    resolve(handle, soname, "ldap_msgid", &api->msgid, error) &&
                    resolve(handle, soname, "ldap_msgfree", &api->msgfree, error) &&
                    resolve(handle, soname, "ldap_parse_result", &api->parse_result, error) &&
                    resolve(handle, soname, "ber_pvt_opt_on", &api->opt_on, error) &&
                    resolve(handle, soname, "ber_sockbuf_add_io", &api->sockbuf_add_io, error) &&
                    resolve(handle, soname, "ber_sockbuf_io_readahead", &api->sockbuf_io_readahead,
                            error);
    if (!ok) {
        dlclose(handle);
        return nullptr;
    }
    // The handle stays open for the life of the process: connections may
    // outlive any one client, and unloading libldap (with its TLS state) is
    // never safe while a thread may still hold an LDAP*.
    return api.release();
}

const LdapApi* loadLdapApi(std::string* error) {
    static std::once_flag once;
    static const LdapApi* api = nullptr;
    static std::string loadError;
    std::call_once(once, [] { api = loadLdapApiFrom(DREF_LDAP_SONAME, &loadError); });
    if (api == nullptr) *error = loadError;
    return api;
}

}  // namespace dref::ldap
