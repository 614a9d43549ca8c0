// The settings struct "referral" through Dovecot 2.4's own settings parser
// (libdovecot), and the symbols of the built settings module as config's
// module loader looks them up.  What dovecot.conf accepts is decided here:
// a wrong key name, default or check would make these fail.
extern "C" {
#include "lib.h"
#include "settings-parser.h"
}

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>

#include "dref_version.h"
#include "referral_settings_info.h"

namespace {

struct Parsed {
    bool checkOk = false;
    std::string error;
    std::string value;
};

// Parses `lines` (key, value pairs) into a fresh struct and runs its checks,
// as the config process does for every filter.  `unknown` collects the keys
// the parser did not know.
Parsed parse(std::initializer_list<std::pair<const char*, const char*>> lines,
             std::string* unknown = nullptr) {
    Parsed out;
    pool_t pool = pool_alloconly_create("referral settings test", 1024);
    struct setting_parser_context* ctx =
        settings_parser_init(pool, &referral_setting_parser_info,
                             static_cast<enum settings_parser_flags>(0));
    for (const auto& kv : lines) {
        int ret = settings_parse_keyvalue(ctx, kv.first, kv.second);
        if (ret == 0 && unknown != nullptr) *unknown += kv.first;
        if (ret < 0) out.error = settings_parser_get_error(ctx);
    }
    struct event* event = event_create(nullptr);
    const char* error = nullptr;
    out.checkOk = settings_parser_check(ctx, pool, event, &error);
    if (!out.checkOk && error != nullptr) out.error = error;
    const auto* set = static_cast<const struct referral_settings*>(settings_parser_get_set(ctx));
    if (set->referral_config != nullptr) out.value = set->referral_config;
    event_unref(&event);
    settings_parser_unref(&ctx);
    pool_unref(&pool);
    return out;
}

TEST(ReferralSettings, DefaultIsTheSharedSettingsFile) {
    Parsed p = parse({});
    EXPECT_TRUE(p.checkOk) << p.error;
    EXPECT_EQ(p.value, DREF_DEFAULT_SETTINGS_FILE);
}

TEST(ReferralSettings, AbsolutePathAccepted) {
    Parsed p = parse({{"referral_config", "/srv/dovecot/referral.conf.ext"}});
    EXPECT_TRUE(p.checkOk) << p.error;
    EXPECT_EQ(p.value, "/srv/dovecot/referral.conf.ext");
}

TEST(ReferralSettings, PercentIsLiteral) {
    // SET_STR_NOVARS: nothing to expand in a path read before any user exists.
    Parsed p = parse({{"referral_config", "/etc/dovecot/%{user}.conf"}});
    EXPECT_TRUE(p.checkOk) << p.error;
    EXPECT_EQ(p.value, "/etc/dovecot/%{user}.conf");
}

TEST(ReferralSettings, RelativePathRefused) {
    Parsed p = parse({{"referral_config", "dovecot-referral.conf.ext"}});
    EXPECT_FALSE(p.checkOk);
    EXPECT_EQ(p.error,
              "referral_config: must be an absolute path, not 'dovecot-referral.conf.ext'");
}

TEST(ReferralSettings, EmptyRefused) {
    Parsed p = parse({{"referral_config", ""}});
    EXPECT_FALSE(p.checkOk);
    EXPECT_NE(p.error.find("referral_config: must not be empty"), std::string::npos) << p.error;
}

TEST(ReferralSettings, OnlyOneKey) {
    std::string unknown;
    parse({{"referral_confg", "/x"}, {"referral_config", "/x"}}, &unknown);
    EXPECT_EQ(unknown, "referral_confg");
}

// The module as config-parser.c / module-dir.c see it: module name
// "dovecot_referral_settings" (from the file name), <name>_set_infos and
// <name>_version, nothing else exported.
TEST(ReferralSettingsModule, ExportsWhatConfigLooksUp) {
    void* h = dlopen(DREF_SETTINGS_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr) << dlerror();
    auto* version = static_cast<const char* const*>(dlsym(h, "dovecot_referral_settings_version"));
    ASSERT_NE(version, nullptr);
    EXPECT_STREQ(*version, DOVECOT_ABI_VERSION);
    auto* infos = static_cast<const struct setting_parser_info* const*>(
        dlsym(h, "dovecot_referral_settings_set_infos"));
    ASSERT_NE(infos, nullptr);
    ASSERT_NE(infos[0], nullptr);
    EXPECT_STREQ(infos[0]->name, "referral");
    EXPECT_STREQ(infos[0]->defines[0].key, "referral_config");
    EXPECT_EQ(infos[0]->defines[1].key, nullptr);
    EXPECT_EQ(infos[1], nullptr);
    // The struct definition is internal: config must not resolve it from us.
    EXPECT_EQ(dlsym(h, "referral_setting_parser_info"), nullptr);
    dlclose(h);
}

}  // namespace

int main(int argc, char** argv) {
    lib_init();  // data stack and pools for the settings parser
    ::testing::InitGoogleTest(&argc, argv);
    int ret = RUN_ALL_TESTS();
    lib_deinit();
    return ret;
}
