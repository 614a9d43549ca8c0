// Decision -> Dovecot passdb answer (issue 3 deliverable 1; R2221-15, D-14, D-17).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "passdb_reply.h"
#include "response_text.h"

using namespace dref;

namespace {

Decision decision(DecisionKind k) {
    Decision d;
    d.kind = k;
    d.target.host = "home1.example.test";
    d.target.port = 10143;
    return d;
}

std::map<std::string, std::string> fields(const PassdbReply& r) {
    return {r.fields.begin(), r.fields.end()};
}

// The settings prepared as ReferralPassdb prepares them once.
PassdbReply build(const Decision& d, const LoginSettings& login, const ReplyContext& ctx) {
    return buildPassdbReply(d, ReplySettings(login), ctx);
}

// The decision line's part for the answer build() gives.
std::string logLine(const Decision& d, const LoginSettings& login, const ReplyContext& ctx) {
    const ReplySettings prepared(login);
    return passdbReplyLogLine(d, buildPassdbReply(d, prepared, ctx), prepared, ctx);
}

ReplyContext plain() {
    ReplyContext c;
    c.loginUser = "alice";
    return c;
}

LoginSettings withMasterUser() {
    LoginSettings login;
    login.proxyMasterUser = "proxy-master";
    login.proxyMasterPassword = "s3cret";
    return login;
}

ReplyContext credentials() {
    ReplyContext c = plain();
    c.plaintextMech = false;
    c.credentialsLookup = true;
    return c;
}

}  // namespace

TEST(PassdbReply, LocalSetsNothing) {
    PassdbReply r = build(decision(DecisionKind::Local), LoginSettings{}, plain());
    EXPECT_EQ(r.outcome, PassdbOutcome::Ok);
    EXPECT_TRUE(r.fields.empty());
}

TEST(PassdbReply, ReferSetsNologinHostPortDestuserReason) {
    LoginSettings login;
    login.referralText = "Use home1\r\n]x";
    PassdbReply r = build(decision(DecisionKind::Refer), login, plain());
    EXPECT_EQ(r.outcome, PassdbOutcome::Ok);
    auto f = fields(r);
    EXPECT_EQ(f.size(), 5u);
    EXPECT_EQ(f["nologin"], "y");
    EXPECT_EQ(f["host"], "home1.example.test");
    EXPECT_EQ(f["port"], "10143");
    EXPECT_EQ(f["destuser"], "alice");
    EXPECT_EQ(f["reason"].find_first_of("\r\n"), std::string::npos);
    EXPECT_EQ(f.count("proxy"), 0u);
}

// The reason is what sanitizeResponseText() makes of referral_text,
// whether or not the text was already clean (clean ones are not sanitized
// again at every login).
TEST(PassdbReply, ReasonIsTheSanitizedReferralText) {
    for (const char* text : {"Your mailbox is on another server.", "Moved ", "  ", "",
                             "[ALERT] x", "caf\xc3\xa9\tok", "Use home1\r\n]x",
                             "a b  c", " leading"}) {
        LoginSettings login;
        login.referralText = text;
        for (DecisionKind kind : {DecisionKind::Refer, DecisionKind::Suggest}) {
            auto f = fields(build(decision(kind), login, plain()));
            EXPECT_EQ(f["reason"], sanitizeResponseText(text, "Try this server instead."))
                << "text \"" << text << "\"";
        }
    }
}

// The reason is prepared with the settings, not at every login: the
// prepared text is what every referral of those settings carries.
TEST(PassdbReply, ReasonIsPreparedOnceWithTheSettings) {
    LoginSettings login;
    login.referralText = "Moved ";
    const ReplySettings prepared(login);
    EXPECT_EQ(prepared.referralReason, "Moved");
    for (int i = 0; i < 2; ++i) {
        auto f = fields(buildPassdbReply(decision(DecisionKind::Refer), prepared, plain()));
        EXPECT_EQ(f["reason"], "Moved");
    }
    EXPECT_EQ(ReplySettings(LoginSettings{}).referralReason, LoginSettings{}.referralText);
}

// The prepared settings are a copy: what happens to the LoginSettings they
// were made of later (changed, or gone) does not reach a login's answer.
TEST(PassdbReply, PreparedSettingsAreACopy) {
    std::optional<ReplySettings> prepared;
    {
        LoginSettings login = withMasterUser();
        login.proxyConnection.tls = ProxyTls::Tls;
        login.referralText = "Moved";
        prepared.emplace(login);
        login = LoginSettings{};
    }
    auto f = fields(buildPassdbReply(decision(DecisionKind::Proxy), *prepared, credentials()));
    EXPECT_EQ(f["master"], "proxy-master");
    EXPECT_EQ(f["pass"], "s3cret");
    EXPECT_EQ(f["ssl"], "yes");
    f = fields(buildPassdbReply(decision(DecisionKind::Refer), *prepared, plain()));
    EXPECT_EQ(f["reason"], "Moved");
}

TEST(PassdbReply, ReferUsesDirectoryIdentity_D18) {
    Decision d = decision(DecisionKind::Refer);
    d.targetUser = "alice@example.test";
    EXPECT_EQ(fields(build(d, LoginSettings{}, plain()))["destuser"], "alice@example.test");
}

TEST(PassdbReply, ProxyPlaintextLetsDovecotAddThePassword) {
    auto f = fields(build(decision(DecisionKind::Proxy), LoginSettings{}, plain()));
    EXPECT_EQ(f["proxy"], "y");
    EXPECT_EQ(f["host"], "home1.example.test");
    EXPECT_EQ(f.count("pass"), 0u);
    EXPECT_EQ(f.count("nologin"), 0u);
}

TEST(PassdbReply, ProxyWithoutPasswordNeedsMasterUser) {
    EXPECT_EQ(build(decision(DecisionKind::Proxy), LoginSettings{}, credentials()).outcome,
              PassdbOutcome::Refused);
    PassdbReply r = build(decision(DecisionKind::Proxy), withMasterUser(), credentials());
    auto f = fields(r);
    EXPECT_EQ(f["master"], "proxy-master");
    EXPECT_EQ(f["pass"], "s3cret");
    EXPECT_EQ(logLine(decision(DecisionKind::Proxy), withMasterUser(), credentials()).find("s3cret"),
              std::string::npos);
}

// Issue 14 item 6: every proxied session carries the TLS and timeout fields
// (Dovecot verifies the certificate against `host`, the directory's name);
// referrals and suggestions never do (the client connects itself).
TEST(PassdbReply, ProxyCarriesTlsAndTimeoutFields) {
    LoginSettings login;
    login.proxyConnection.tls = ProxyTls::StartTls;
    login.proxyConnection.timeoutSeconds = 9;
    PassdbReply r = build(decision(DecisionKind::Proxy), login, plain());
    auto f = fields(r);
    EXPECT_EQ(f["starttls"], "yes");
    EXPECT_EQ(f.count("ssl"), 0u);
    EXPECT_EQ(f["proxy_timeout"], "9");
    EXPECT_EQ(f["host"], "home1.example.test");
    EXPECT_EQ(logLine(decision(DecisionKind::Proxy), login, plain()),
              "proxy to home1.example.test:10143 over STARTTLS");

    login.proxyConnection.tls = ProxyTls::Tls;
    login.proxyConnection.verifyCertificate = false;
    login.proxyMasterUser = "proxy-master";
    login.proxyMasterPassword = "s3cret";
    // A referral replaced by the proxy (credentials mechanism) is a proxy too.
    r = build(decision(DecisionKind::Refer), login, credentials());
    f = fields(r);
    EXPECT_EQ(f["proxy"], "y");
    EXPECT_EQ(f["ssl"], "any-cert");
    EXPECT_EQ(f.count("starttls"), 0u);
    EXPECT_EQ(logLine(decision(DecisionKind::Refer), login, credentials())
                  .rfind("proxy to home1.example.test:10143 over TLS without certificate check", 0),
              0u);

    for (DecisionKind k : {DecisionKind::Refer, DecisionKind::Suggest, DecisionKind::Local,
                           DecisionKind::Reject, DecisionKind::TempFail}) {
        auto g = fields(build(decision(k), login, plain()));
        EXPECT_EQ(g.count("ssl") + g.count("starttls") + g.count("proxy_timeout"), 0u);
    }
}

// R2221-15: during a credentials lookup the mechanism has not verified the
// client yet; any `host` field would become a referral after a failure.
TEST(PassdbReply, NoReferralFieldsDuringCredentialsLookup_R2221_15) {
    PassdbReply r = build(decision(DecisionKind::Refer), LoginSettings{}, credentials());
    EXPECT_EQ(r.outcome, PassdbOutcome::Refused);
    EXPECT_TRUE(r.fields.empty());
    PassdbReply rej = build(decision(DecisionKind::Reject), LoginSettings{}, credentials());
    EXPECT_EQ(rej.outcome, PassdbOutcome::Refused);
    EXPECT_TRUE(rej.fields.empty());
}

TEST(PassdbReply, TempFailIsUndelayedInternalFailure_D14) {
    PassdbReply r = build(decision(DecisionKind::TempFail), LoginSettings{}, plain());
    EXPECT_EQ(r.outcome, PassdbOutcome::InternalFailure);
    EXPECT_TRUE(r.noDelay);
    EXPECT_TRUE(r.fields.empty());
}

TEST(PassdbReply, RejectHasNoHost_D17) {
    auto f = fields(build(decision(DecisionKind::Reject), LoginSettings{}, plain()));
    EXPECT_EQ(f["nologin"], "y");
    EXPECT_EQ(f.count("host"), 0u);
    EXPECT_EQ(f["reason"], kRejectText);
}

// R2221-10: Suggest is a local login carrying a bare host for the login
// plugin's OK [REFERRAL]; never a host during a credentials lookup.
TEST(PassdbReply, SuggestIsLocalLoginWithBareHost_R2221_10) {
    auto f = fields(build(decision(DecisionKind::Suggest), LoginSettings{}, plain()));
    EXPECT_EQ(f.count("nologin"), 0u);
    EXPECT_EQ(f.count("proxy"), 0u);
    EXPECT_EQ(f["host"], "home1.example.test");
    EXPECT_EQ(f["port"], "10143");
    EXPECT_EQ(f["destuser"], "alice");
    PassdbReply r = build(decision(DecisionKind::Suggest), LoginSettings{}, credentials());
    EXPECT_EQ(r.outcome, PassdbOutcome::Ok);
    EXPECT_TRUE(r.fields.empty());
}

// Issue 14: LMTP's and doveadm's lookups carry no password and log in to
// nobody: proxy fields without master/pass, even with a master user set.
namespace {
ReplyContext lookupOf(Protocol p) {
    ReplyContext c = credentials();
    c.protocol = p;
    return c;
}
}  // namespace

TEST(PassdbReply, LmtpAndDoveadmProxyWithoutLogin) {
    LoginSettings login;
    for (Protocol p : {Protocol::Lmtp, Protocol::Doveadm}) {
        for (const char* master : {"", "master"}) {
            login.proxyMasterUser = master;
            login.proxyMasterPassword = *master ? "pw" : "";
            PassdbReply r = build(decision(DecisionKind::Proxy), login, lookupOf(p));
            EXPECT_EQ(r.outcome, PassdbOutcome::Ok) << protocolName(p);
            auto f = fields(r);
            EXPECT_EQ(f.count("proxy"), 1u);
            EXPECT_EQ(f["host"], "home1.example.test");
            EXPECT_EQ(f["port"], "10143");
            EXPECT_EQ(f["destuser"], "alice");
            EXPECT_EQ(f.count("master"), 0u) << protocolName(p);
            EXPECT_EQ(f.count("pass"), 0u) << protocolName(p);
            EXPECT_EQ(f.count("nologin"), 0u);
        }
    }
}

TEST(PassdbReply, PortZeroLeavesThePortToTheClientSide) {
    Decision d = decision(DecisionKind::Proxy);
    d.target.port = 0;
    PassdbReply r = build(d, LoginSettings{}, lookupOf(Protocol::Doveadm));
    auto f = fields(r);
    EXPECT_EQ(f.count("port"), 0u);
    EXPECT_EQ(f["host"], "home1.example.test");
    EXPECT_EQ(logLine(d, LoginSettings{}, lookupOf(Protocol::Doveadm)), "proxy to home1.example.test");
}

// POP3/ManageSieve/submission log in as the user: like IMAP, a mechanism
// without a plaintext password needs the master user.
TEST(PassdbReply, Pop3CredentialsMechanismNeedsMasterUser) {
    ReplyContext c = lookupOf(Protocol::Pop3);
    EXPECT_EQ(build(decision(DecisionKind::Proxy), LoginSettings{}, c).outcome,
              PassdbOutcome::Refused);
    c = plain();
    c.protocol = Protocol::Pop3;
    PassdbReply r = build(decision(DecisionKind::Proxy), LoginSettings{}, c);
    EXPECT_EQ(r.outcome, PassdbOutcome::Ok);
    EXPECT_EQ(fields(r).count("pass"), 0u);  // Dovecot adds the client's password
}

// Never a local delivery (or local doveadm run) of a user whose home is not
// usable, and never a bounce: a temporary failure.
TEST(PassdbReply, LmtpAndDoveadmRejectIsTemporary) {
    for (Protocol p : {Protocol::Lmtp, Protocol::Doveadm}) {
        PassdbReply r = build(decision(DecisionKind::Reject), LoginSettings{}, lookupOf(p));
        EXPECT_EQ(r.outcome, PassdbOutcome::InternalFailure) << protocolName(p);
        EXPECT_TRUE(r.fields.empty());
        EXPECT_NE(logLine(decision(DecisionKind::Reject), LoginSettings{}, lookupOf(p))
                      .find("no usable home server"),
                  std::string::npos);
        r = build(decision(DecisionKind::TempFail), LoginSettings{}, lookupOf(p));
        EXPECT_EQ(r.outcome, PassdbOutcome::InternalFailure) << protocolName(p);
    }
    ReplyContext c = plain();
    c.protocol = Protocol::Pop3;
    PassdbReply r = build(decision(DecisionKind::Reject), LoginSettings{}, c);
    EXPECT_EQ(r.outcome, PassdbOutcome::Ok);
    EXPECT_EQ(fields(r)["nologin"], "y");
    EXPECT_EQ(fields(r).count("host"), 0u);
}

// Issue 11: proxy-suggest is proxied exactly as proxy, plus the marker the
// login plugin turns into OK [REFERRAL ...] on the home server's OK.
TEST(PassdbReply, ProxySuggestIsProxyPlusHintMarker_R2221_10) {
    PassdbReply proxy = build(decision(DecisionKind::Proxy), LoginSettings{}, plain());
    PassdbReply r = build(decision(DecisionKind::ProxySuggest), LoginSettings{}, plain());
    ASSERT_EQ(r.outcome, PassdbOutcome::Ok);
    ASSERT_EQ(r.fields.size(), proxy.fields.size() + 1);
    for (size_t i = 0; i < proxy.fields.size(); ++i) EXPECT_EQ(r.fields[i], proxy.fields[i]);
    EXPECT_EQ(r.fields.back().first, "referral_hint");
    EXPECT_EQ(r.fields.back().second, "y");
    auto f = fields(r);
    EXPECT_EQ(f.count("nologin"), 0u);
    EXPECT_EQ(f.count("reason"), 0u);
    EXPECT_NE(logLine(decision(DecisionKind::ProxySuggest), LoginSettings{}, plain())
                  .find("OK referral hint"),
              std::string::npos);
}

// Without a plaintext password it needs the master user, as proxy does; the
// hint is only given once the home server accepted that login (R2221-15).
TEST(PassdbReply, ProxySuggestCredentialsLookupAsProxy_R2221_15) {
    EXPECT_EQ(build(decision(DecisionKind::ProxySuggest), LoginSettings{}, credentials())
                  .outcome,
              PassdbOutcome::Refused);
    PassdbReply r =
        build(decision(DecisionKind::ProxySuggest), withMasterUser(), credentials());
    auto f = fields(r);
    EXPECT_EQ(f["proxy"], "y");
    EXPECT_EQ(f["master"], "proxy-master");
    EXPECT_EQ(f["pass"], "s3cret");
    EXPECT_EQ(f["referral_hint"], "y");
    EXPECT_EQ(logLine(decision(DecisionKind::ProxySuggest), withMasterUser(), credentials())
                  .find("s3cret"),
              std::string::npos);
}

// The driver adds the reply's fields with auth_fields_add(), without
// auth_request_set_field()'s interpretation of names (issue 13 item 3):
// every field of every reply must be a plain extra field, none of the
// names Dovecot 2.3 or 2.4 interprets there (or their :default/:protected/
// :remove suffixes), for every decision, protocol, mechanism and TLS mode.
TEST(PassdbReply, FieldsArePlainExtraFields) {
    const std::vector<std::string> interpreted = {
        "password", "password_noscheme", "user", "username", "domain", "login_user",
        "allow_nets", "allow_real_nets", "fail", "nodelay", "delay_until", "noauthenticate",
        "nopassword", "passdb_import"};
    LoginSettings login = withMasterUser();
    for (ProxyTls tls : {ProxyTls::None, ProxyTls::StartTls, ProxyTls::Tls}) {
        login.proxyConnection.tls = tls;
        login.proxyConnection.timeoutSeconds = 5;
        for (Protocol proto : {Protocol::Imap, Protocol::Pop3, Protocol::Lmtp, Protocol::ManageSieve,
                               Protocol::Submission, Protocol::Doveadm, Protocol::Other}) {
            for (ReplyContext ctx : {plain(), credentials()}) {
                ctx.protocol = proto;
                for (DecisionKind k : {DecisionKind::Local, DecisionKind::Refer, DecisionKind::Suggest,
                                       DecisionKind::Proxy, DecisionKind::ProxySuggest,
                                       DecisionKind::TempFail, DecisionKind::Reject}) {
                    for (const auto& f : build(decision(k), login, ctx).fields) {
                        EXPECT_FALSE(f.first.empty());
                        EXPECT_EQ(f.first.find(':'), std::string::npos) << f.first;
                        EXPECT_NE(f.first.rfind("userdb_", 0), 0u) << f.first;
                        for (const std::string& name : interpreted) EXPECT_NE(f.first, name);
                    }
                }
            }
        }
    }
}

// buildPassdbReply() builds no text (the driver's warm login writes no
// decision line): passdbReplyLogLine() builds the line, for every decision,
// protocol, mechanism, TLS mode and master user setting, and never with a
// password in it.
TEST(PassdbReply, AnswerWithoutTextLineApart) {
    for (const LoginSettings& base : {LoginSettings{}, withMasterUser()}) {
        LoginSettings login = base;
        for (ProxyTls tls : {ProxyTls::None, ProxyTls::StartTls, ProxyTls::Tls}) {
            login.proxyConnection.tls = tls;
            const ReplySettings prepared(login);
            for (Protocol proto : {Protocol::Imap, Protocol::Pop3, Protocol::Lmtp,
                                   Protocol::ManageSieve, Protocol::Submission, Protocol::Doveadm,
                                   Protocol::Other}) {
                for (ReplyContext ctx : {plain(), credentials()}) {
                    ctx.protocol = proto;
                    for (DecisionKind k :
                         {DecisionKind::Local, DecisionKind::Refer, DecisionKind::Suggest,
                          DecisionKind::Proxy, DecisionKind::ProxySuggest, DecisionKind::TempFail,
                          DecisionKind::Reject}) {
                        const PassdbReply r = buildPassdbReply(decision(k), prepared, ctx);
                        const std::string line = passdbReplyLogLine(decision(k), r, prepared, ctx);
                        EXPECT_FALSE(line.empty()) << decisionKindName(k);
                        EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
                        // A refusal says so, and only a refusal.
                        EXPECT_EQ(line.rfind("refused: ", 0) == 0,
                                  r.outcome == PassdbOutcome::Refused)
                            << line;
                    }
                }
            }
        }
    }
}
