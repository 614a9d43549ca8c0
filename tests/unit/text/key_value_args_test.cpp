// key_value_args.h: the passdb extra fields imap-login gets as "key=value"
// strings, as the login plugin reads a referral's host, port, destuser and
// reason from them.
#include "key_value_args.h"

#include <gtest/gtest.h>

namespace dref {
namespace {

TEST(KeyValueArgs, ValueOfANamedArg) {
    EXPECT_STREQ(keyValueArgValue("host=h.example.test", "host"), "h.example.test");
    EXPECT_STREQ(keyValueArgValue("host=", "host"), "");
    EXPECT_STREQ(keyValueArgValue("reason=a=b", "reason"), "a=b");
    EXPECT_EQ(keyValueArgValue("hostname=x", "host"), nullptr);  // a longer key
    EXPECT_EQ(keyValueArgValue("hos=x", "host"), nullptr);       // a shorter one
    EXPECT_EQ(keyValueArgValue("host", "host"), nullptr);        // no value at all
    EXPECT_EQ(keyValueArgValue("", "host"), nullptr);
    EXPECT_EQ(keyValueArgValue("Host=x", "host"), nullptr);      // keys are exact
    EXPECT_EQ(keyValueArgValue("=x", ""), nullptr);
}

// The referral's fields of one login, as Dovecot hands them over: the
// first of a name counts, the order of the args does not matter, an arg of
// another name or a key that only starts like a wanted one is skipped.
TEST(KeyValueArgs, OnePassFillsEverySlot) {
    const char* const args[] = {"nologin=y",     "hostx=bad", "port=10143", "host=h1.example.test",
                                "destuser=fred", "host=h2.example.test",   "proxy",
                                "reason=Moved",  nullptr};
    const char* host = nullptr;
    const char* destuser = nullptr;
    const char* port = nullptr;
    const char* reason = nullptr;
    const KeyValueSlot slots[] = {
        {"host", &host}, {"destuser", &destuser}, {"port", &port}, {"reason", &reason}};
    findKeyValueArgs(args, slots, 4);
    EXPECT_STREQ(host, "h1.example.test");
    EXPECT_STREQ(destuser, "fred");
    EXPECT_STREQ(port, "10143");
    EXPECT_STREQ(reason, "Moved");
}

TEST(KeyValueArgs, MissingKeysStayNull) {
    const char* const args[] = {"host=h1.example.test", "nologin=y", nullptr};
    const char* host = nullptr;
    const char* port = nullptr;
    const KeyValueSlot slots[] = {{"host", &host}, {"port", &port}};
    findKeyValueArgs(args, slots, 2);
    EXPECT_STREQ(host, "h1.example.test");
    EXPECT_EQ(port, nullptr);

    host = nullptr;
    findKeyValueArgs(nullptr, slots, 2);  // a login without passdb fields
    EXPECT_EQ(host, nullptr);
    const char* const none[] = {nullptr};
    findKeyValueArgs(none, slots, 2);
    EXPECT_EQ(host, nullptr);
}

}  // namespace
}  // namespace dref
