// libldap is opened at run time, at the first connection (ldap/client/
// ldap_api.h).  A library that cannot be opened must give a clear error (the
// connection then fails and the directory answers Unavailable, D-17), never
// a crash; the real one must resolve every function the client calls.
#include <gtest/gtest.h>

#include "ldap_api.h"
#include "ldap_client.h"

namespace dref::ldap {
namespace {

TEST(LdapApi, MissingLibraryGivesErrorNamingIt_D17) {
    std::string error;
    const LdapApi* api = loadLdapApiFrom("libdref-no-such-ldap.so.0", &error);
    EXPECT_EQ(api, nullptr);
    EXPECT_NE(error.find("cannot load LDAP library libdref-no-such-ldap.so.0"), std::string::npos)
        << error;
}

TEST(LdapApi, LibraryWithoutTheFunctionsNamesTheMissingSymbol_D17) {
    // libc opens fine but has no LDAP function: the first one is reported.
    std::string error;
    const LdapApi* api = loadLdapApiFrom("libc.so.6", &error);
    EXPECT_EQ(api, nullptr);
    EXPECT_NE(error.find("cannot load LDAP library libc.so.6: symbol ldap_initialize not found"),
              std::string::npos)
        << error;
}

TEST(LdapApi, BuildLibraryResolvesEveryFunction) {
    std::string error;
    const LdapApi* api = loadLdapApi(&error);
    ASSERT_NE(api, nullptr) << error;
    // ber_free and ber_pvt_opt_on are liblber's, found through libldap's dependency.
    EXPECT_NE(api->ber_free, nullptr);
    EXPECT_NE(api->parse_result, nullptr);
    EXPECT_NE(api->opt_on, nullptr);
    EXPECT_NE(api->sockbuf_add_io, nullptr);
    EXPECT_NE(api->sockbuf_io_readahead, nullptr);  // a data symbol of liblber
    EXPECT_NE(api->get_attribute_ber, nullptr);
    EXPECT_STREQ(api->err2string(LDAP_SUCCESS), "Success");
    EXPECT_EQ(loadLdapApi(&error), api) << "opened once per process";
}

TEST(LdapApi, CreateChecksUriSchemeWithoutLibldap) {
    ClientSettings s;
    s.uris = {"http://127.0.0.1/"};
    std::string error;
    EXPECT_EQ(Client::create(s, &error), nullptr);
    EXPECT_NE(error.find("invalid LDAP URI 'http://127.0.0.1/'"), std::string::npos) << error;
    s.uris = {"ldap://127.0.0.1 /"};
    EXPECT_EQ(Client::create(s, &error), nullptr);
}

}  // namespace
}  // namespace dref::ldap
