#pragma once
// The libldap functions the client calls, resolved at run time.  libldap (and
// GnuTLS, nettle, gmp... behind it) is opened only when the worker makes its
// first connection, so a process that never talks to the directory (an imap
// session served from the mailbox cache file) never maps it.  Types and
// constants still come from <ldap.h>.
#include <ldap.h>

#include <string>

namespace dref::ldap {

struct LdapApi {
    decltype(&::ldap_initialize) initialize;
    decltype(&::ldap_set_option) set_option;
    decltype(&::ldap_get_option) get_option;
    decltype(&::ldap_err2string) err2string;
    decltype(&::ldap_memfree) memfree;
    decltype(&::ldap_unbind_ext) unbind_ext;
    decltype(&::ldap_start_tls_s) start_tls_s;
    decltype(&::ldap_sasl_bind_s) sasl_bind_s;
    decltype(&::ldap_connect) connect;
    decltype(&::ldap_search_ext) search_ext;
    decltype(&::ldap_abandon_ext) abandon_ext;
    decltype(&::ldap_get_dn_ber) get_dn_ber;
    decltype(&::ldap_get_attribute_ber) get_attribute_ber;
    decltype(&::ber_memfree) ber_memfree;
    decltype(&::ber_free) ber_free;
    decltype(&::ldap_result) result;
    decltype(&::ldap_msgid) msgid;
    decltype(&::ldap_msgfree) msgfree;
    decltype(&::ldap_parse_result) parse_result;
    // LDAP_OPT_ON is the address of this liblber variable; any other
    // non-null pointer would do, but the library's own is exact.
    void* opt_on;
    // liblber's read-ahead layer (a data symbol) and the call that stacks it
    // on a connection's Sockbuf (Connection::open).
    decltype(&::ber_sockbuf_add_io) sockbuf_add_io;
    Sockbuf_IO* sockbuf_io_readahead;
};

// The table for the libldap the project was built against (its SONAME, found
// at configure time).  Opened once per process; later calls return the same
// table, or nullptr with the same *error if opening failed.
const LdapApi* loadLdapApi(std::string* error);

// Opens `soname` and resolves every entry.  nullptr + *error (naming the
// library and, when it opened, the missing symbol) on failure.  Each call
// opens the library again (dlopen reference-counts it); the handle is kept.
const LdapApi* loadLdapApiFrom(const char* soname, std::string* error);

}  // namespace dref::ldap
