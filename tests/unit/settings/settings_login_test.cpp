// Settings of the login section (settings.h LoginSettings): the texts sent
// to clients and the drain host.
#include "settings_test_util.h"

namespace dref::testing_settings {

TEST(SettingsErrors, WireTexts_R3501_2) {
    EXPECT_EQ(loadFails("referral_text = [ALERT] moved\n"),
              "t.conf:3: referral_text: must be 1-200 printable US-ASCII characters, not starting with "
              "'[' or a space");
    loadFails("referral_text =\n");
    loadFails("drain_text = Wartung l\xC3\xA4uft\n");
    loadFails("mailbox_referral_text = " + std::string(201, 'x') + "\n");
    loadFails("mailbox_referral_text = \" padded\"\n");
    loadFails("drain_text = a\tb\n");
    EXPECT_EQ(loadOk("drain_text = a]b\n").login.drainText, "a]b");
}

TEST(SettingsErrors, DrainHost_D4) {
    EXPECT_EQ(loadFails("drain_host = 2001:db8::1\n"),
              "t.conf:3: drain_host: '2001:db8::1' is not a valid host name or IPv4 address (no IPv6: "
              "D-4)");
    loadFails("drain_host = [::1]\n");
    loadFails("drain_host = maint]\n");
    loadFails("drain_host = main_t.example\n");
    loadFails("drain_host = host.example:143\n");
    EXPECT_EQ(loadOk("drain_host = 192.0.2.9\n").login.drainHost, "192.0.2.9");
}

}  // namespace dref::testing_settings
