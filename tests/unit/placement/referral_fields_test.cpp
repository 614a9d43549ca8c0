// plugin/core/placement/referral_fields: the placement an earlier passdb returned as
// fields, validated by the same function as the directory's values.
#include "referral_fields.h"

#include <gtest/gtest.h>

namespace dref {
namespace {

DirectorySettings settings() {
    DirectorySettings s;
    s.homePort = 143;
    return s;
}

ReferralFields complete(std::string_view host, std::string_view url = "",
                        std::string_view policy = "") {
    ReferralFields f;
    f.homeServer = host;
    f.url = url;
    f.policy = policy;
    return f;
}

UserRecord map(const ReferralFields& f, std::vector<std::string>* w,
               const DirectorySettings& s = settings()) {
    UserRecord r;
    recordFromReferralFields(f, s, &r, w);
    return r;
}

bool mentions(const std::vector<std::string>& warnings, const std::string& what) {
    for (const auto& w : warnings)
        if (w.find(what) != std::string::npos) return true;
    return false;
}

TEST(ReferralFields, NoFieldMeansAskTheDirectory) {
    std::string missing;
    EXPECT_EQ(classifyReferralFields(ReferralFields{}, settings(), &missing), ReferralFieldSet::None);
}

TEST(ReferralFields, EveryConfiguredFieldSetIsComplete) {
    // referral_user_attribute is empty by default: referral_user is not needed.
    EXPECT_EQ(classifyReferralFields(complete(""), settings(), nullptr), ReferralFieldSet::Complete);
    DirectorySettings s = settings();
    s.referralUserAttribute = "mailUid";
    std::string missing;
    EXPECT_EQ(classifyReferralFields(complete("h"), s, &missing), ReferralFieldSet::Partial);
    EXPECT_EQ(missing, "referral_user");
    ReferralFields f = complete("h");
    f.user = "";
    EXPECT_EQ(classifyReferralFields(f, s, nullptr), ReferralFieldSet::Complete);
}

TEST(ReferralFields, SomeFieldsMissingIsPartial) {
    ReferralFields f;
    f.homeServer = "home1.example.test";
    std::string missing;
    EXPECT_EQ(classifyReferralFields(f, settings(), &missing), ReferralFieldSet::Partial);
    EXPECT_EQ(missing, "referral_url, referral_policy");
}

TEST(ReferralFields, FieldsOfUnconfiguredAttributesAreNotNeeded) {
    DirectorySettings s = settings();
    s.homeUrlAttribute.clear();
    s.policyAttribute.clear();
    ReferralFields f;
    f.homeServer = "home1.example.test";
    EXPECT_EQ(classifyReferralFields(f, s, nullptr), ReferralFieldSet::Complete);
    // ... and ignored when present, as the directory ignores the attribute.
    f.url = "imap://other.example.test/";
    f.policy = "refer";
    std::vector<std::string> w;
    UserRecord r = map(f, &w, s);
    ASSERT_TRUE(r.home);
    EXPECT_EQ(r.home->host, "home1.example.test");
    EXPECT_FALSE(r.policy);
}

// 2.3's plain pass_attrs mappings leave a field unset when the entry lacks
// the attribute; the constant referral_fields names what the line maps, so
// those count as absent attributes instead of a partial set.
TEST(ReferralFields, FieldSetMakesUnsetMappedFieldsAbsent) {
    ReferralFields f;
    f.fieldSet = "referral_home_server+referral_url+referral_policy";
    EXPECT_EQ(classifyReferralFields(f, settings(), nullptr), ReferralFieldSet::Complete);
    f.homeServer = "home1.example.test";
    EXPECT_EQ(classifyReferralFields(f, settings(), nullptr), ReferralFieldSet::Complete);
    std::vector<std::string> w;
    UserRecord r = map(f, &w);
    ASSERT_TRUE(r.home);
    EXPECT_EQ(r.home->host, "home1.example.test");
    EXPECT_FALSE(r.policy);
    EXPECT_TRUE(w.empty());
    f.fieldSet = "referral_home_server referral_url:referral_policy";  // other separators
    EXPECT_EQ(classifyReferralFields(f, settings(), nullptr), ReferralFieldSet::Complete);
}

// A field whose attribute is configured but that the line does not name is
// still missing: a site that adds referral_user_attribute without mapping
// it pays a search, it does not lose its users' referral user.
TEST(ReferralFields, FieldSetWithoutANeededFieldIsPartial) {
    DirectorySettings s = settings();
    s.referralUserAttribute = "mailUid";
    ReferralFields f;
    f.fieldSet = "referral_home_server+referral_url+referral_policy";
    f.homeServer = "home1.example.test";
    std::string missing;
    EXPECT_EQ(classifyReferralFields(f, s, &missing), ReferralFieldSet::Partial);
    EXPECT_EQ(missing, "referral_user");
    f.fieldSet = "referral_home_server+referral_url+referral_polic";  // no prefix matches
    EXPECT_EQ(classifyReferralFields(f, settings(), &missing), ReferralFieldSet::Partial);
    EXPECT_EQ(missing, "referral_policy");
    f.fieldSet = "";
    EXPECT_EQ(classifyReferralFields(f, settings(), &missing), ReferralFieldSet::Partial);
    EXPECT_EQ(missing, "referral_url, referral_policy");
}

// Names are whole items of the list: not a prefix, suffix or part of a
// longer name; empty items (doubled, leading, trailing separators) name
// nothing.
TEST(ReferralFields, FieldSetNamesAreWholeItems) {
    ReferralFields f;
    f.homeServer = "home1.example.test";
    std::string missing;
    for (const char* list : {"xreferral_url+referral_policyx", "referral_url_+_referral_policy",
                             "referral_urlreferral_policy", "+ :"}) {
        f.fieldSet = list;
        EXPECT_EQ(classifyReferralFields(f, settings(), &missing), ReferralFieldSet::Partial)
            << list;
        EXPECT_EQ(missing, "referral_url, referral_policy") << list;
    }
    for (const char* list : {"+referral_url++referral_policy+", ":referral_policy referral_url ",
                             "referral_policy:referral_url"}) {
        f.fieldSet = list;
        EXPECT_EQ(classifyReferralFields(f, settings(), nullptr), ReferralFieldSet::Complete)
            << list;
    }
}

TEST(ReferralFields, HostAndPolicy) {
    std::vector<std::string> w;
    UserRecord r = map(complete("Home1.Example.Test", "", "Refer"), &w);
    ASSERT_TRUE(r.home);
    EXPECT_EQ(r.home->host, "Home1.Example.Test");
    EXPECT_EQ(r.home->port, 143);
    ASSERT_TRUE(r.policy);
    EXPECT_EQ(*r.policy, ReferralPolicy::Refer);
    EXPECT_TRUE(w.empty());
    EXPECT_TRUE(r.dn.empty());
}

TEST(ReferralFields, EmptyFieldsAreAbsentAttributes) {
    std::vector<std::string> w;
    UserRecord r = map(complete("", "", ""), &w);
    EXPECT_FALSE(r.home);
    EXPECT_TRUE(r.homeError.empty());  // "no home server", not "unusable"
    EXPECT_FALSE(r.policy);
    EXPECT_TRUE(w.empty());
}

TEST(ReferralFields, UrlOverridesHostAndSuppliesUser_D18) {
    std::vector<std::string> w;
    UserRecord r = map(complete("home1.example.test", "imap://a%40corp@home2.example.test:993/"), &w);
    ASSERT_TRUE(r.home);
    EXPECT_EQ(r.home->host, "home2.example.test");
    EXPECT_EQ(r.home->port, 993);
    EXPECT_EQ(r.referralUser, "a@corp");
}

TEST(ReferralFields, ReferralUserFieldWinsOverUrlUser) {
    DirectorySettings s = settings();
    s.referralUserAttribute = "mailUid";
    ReferralFields f = complete("", "imap://urluser@home2.example.test/");
    f.user = "alice.smith";
    std::vector<std::string> w;
    EXPECT_EQ(map(f, &w, s).referralUser, "alice.smith");
}

// Hostile values never reach the record (D-17): each is refused with a
// warning that names the field and quotes the value safely.
TEST(ReferralFields, HostileHostValuesAreRefused_D17) {
    const std::string longHost(300, 'a');
    for (const std::string& bad :
         {std::string("home1\r\n* OK injected"), std::string("home]1"), std::string("ho\x01me"),
          std::string("home1\0x", 7), longHost, std::string("home1:10143"), std::string("-home"),
          std::string("h\xc3\xa9me")}) {
        std::vector<std::string> w;
        UserRecord r = map(complete(bad), &w);
        EXPECT_FALSE(r.home) << bad;
        EXPECT_FALSE(r.homeError.empty()) << bad;
        ASSERT_TRUE(mentions(w, "referral_home_server")) << bad;
        for (const auto& line : w) {
            EXPECT_EQ(line.find('\r'), std::string::npos);
            EXPECT_EQ(line.find('\n'), std::string::npos);
        }
    }
}

TEST(ReferralFields, HostileUrlsFallBackToHostField) {
    for (const std::string& bad :
         {std::string("imap://home2.example.test:99999/"), std::string("imap://home2.example.test:0/"),
          std::string("imap://home2.example.test:x/"), std::string("imap://ho]me/"),
          std::string("imap://home2\r\n.example.test/"), std::string("http://home2.example.test/"),
          std::string("imap://[::1]/"), "imap://" + std::string(2000, 'a') + "/"}) {
        std::vector<std::string> w;
        UserRecord r = map(complete("home1.example.test", bad), &w);
        ASSERT_TRUE(r.home) << bad;
        EXPECT_EQ(r.home->host, "home1.example.test") << bad;
        EXPECT_TRUE(mentions(w, "referral_url")) << bad;
    }
    // Without a usable host field the user has no home server and the error says why.
    std::vector<std::string> w;
    UserRecord r = map(complete("", "imap://home2.example.test:99999/"), &w);
    EXPECT_FALSE(r.home);
    EXPECT_NE(r.homeError.find("referral_url"), std::string::npos);
}

TEST(ReferralFields, HostilePolicyAndUserAreIgnored) {
    DirectorySettings s = settings();
    s.referralUserAttribute = "mailUid";
    for (const std::string& bad : {std::string("refer\r\n"), std::string("Refer]"), std::string("x")}) {
        ReferralFields f = complete("home1.example.test", "", bad);
        f.user = "a";
        std::vector<std::string> w;
        EXPECT_FALSE(map(f, &w, s).policy) << bad;
        EXPECT_TRUE(mentions(w, "referral_policy"));
    }
    for (const std::string& bad : {std::string("al\rice"), std::string("al\x7fice"),
                                   std::string(300, 'u'), std::string("\xff\xfe")}) {
        ReferralFields f = complete("home1.example.test");
        f.user = bad;
        std::vector<std::string> w;
        EXPECT_TRUE(map(f, &w, s).referralUser.empty());
        EXPECT_TRUE(mentions(w, "referral_user"));
    }
}

// Dovecot 2.4's %{ldap_multi:attr} joins several values with TAB: refused
// like several values of a single-valued attribute in the directory path.
TEST(ReferralFields, SeveralValuesAreRefused) {
    std::vector<std::string> w;
    UserRecord r = map(complete("home1.example.test\thome2.example.test", "", "refer\tproxy"), &w);
    EXPECT_FALSE(r.home);
    EXPECT_EQ(r.homeError, "referral_home_server has several values");
    EXPECT_FALSE(r.policy);
    EXPECT_TRUE(mentions(w, "referral_policy has 2 values"));
}

}  // namespace
}  // namespace dref
