// The IMAP ID "name" drives per-client-ID policy (issue 3, policy): parse
// the string imap-login retains (imap_id_retain = yes) robustly.
#include <gtest/gtest.h>

#include "client_id_name.h"

using dref::clientIdName;

TEST(ClientIdName, QuotedPairsAsImapLoginRetainsThem) {
    EXPECT_EQ(clientIdName("\"name\" \"Thunderbird\" \"version\" \"115.0\""), "Thunderbird");
    EXPECT_EQ(clientIdName("\"vendor\" \"x\" \"NAME\" \"Alpine\""), "Alpine");
}

TEST(ClientIdName, EscapesNilAndAtoms) {
    EXPECT_EQ(clientIdName("\"name\" \"a\\\"b\\\\c\""), "a\"b\\c");
    EXPECT_EQ(clientIdName("\"name\" NIL \"version\" \"1\""), "");
    EXPECT_EQ(clientIdName("name mutt"), "mutt");
    EXPECT_EQ(clientIdName("\"version\" \"name\" \"name\" \"x\""), "x");  // a value "name" is not a key
}

TEST(ClientIdName, LiteralsAndMalformedInput) {
    EXPECT_EQ(clientIdName("\"name\" {3}\r\nabc"), "abc");
    EXPECT_EQ(clientIdName("\"name\" {99}\r\nabc"), "");
    EXPECT_EQ(clientIdName("\"name\" \"unterminated"), "");
    EXPECT_EQ(clientIdName(""), "");
    EXPECT_EQ(clientIdName("\"name\""), "");
    EXPECT_EQ(clientIdName("\"x\" \"" + std::string(300, 'x') + "\" \"name\" \"" + std::string(400, 'y') + "\""),
              std::string(256, 'y'));
}
