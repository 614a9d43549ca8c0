// Unit tests of the login plugin's wire text
// (plugin/core/decision/login_reply.cpp); the Dovecot glue around it is
// covered by tests/integration/login/presentation/.
#include "login_reply.h"

#include <gtest/gtest.h>

namespace dref {
namespace {

// The facts' strings, owned here: LoginReferralFacts only views them.
struct Facts {
    LoginCommand command;
    std::string mechanism, user, host;
    uint16_t port;
    std::string reason;
};

Facts facts(LoginCommand cmd, std::string mech, std::string user, std::string host,
            uint16_t port = 143, std::string reason = "") {
    return Facts{cmd, std::move(mech), std::move(user), std::move(host), port, std::move(reason)};
}

void composeInto(const Facts& o, const LoginSettings& s, LoginReply* r) {
    LoginReferralFacts f;
    f.command = o.command;
    f.mechanism = o.mechanism;
    f.user = o.user;
    f.host = o.host;
    f.port = o.port;
    f.reason = o.reason;
    composeLoginReferral(f, prepareLoginReply(s), r);
}

LoginReply compose(const Facts& o, const LoginSettings& s) {
    LoginReply r;
    composeInto(o, s, &r);
    return r;
}

LoginSettings defaults() { return LoginSettings(); }

LoginSettings mechanismInUrl() {
    LoginSettings s;
    s.authMechanismInUrl = true;
    return s;
}

// R2221-7, D-3: LOGIN always ;AUTH=*, even though Dovecot ran it as PLAIN.
TEST(LoginReferral, LoginGetsStarEvenWithMechanismSetting_D3) {
    for (const LoginSettings& s : {defaults(), mechanismInUrl()}) {
        LoginReply r = compose(
            facts(LoginCommand::Login, "PLAIN", "bob", "home.example.test", 10143), s);
        EXPECT_TRUE(r.referral);
        EXPECT_EQ(r.code, "REFERRAL imap://bob;AUTH=*@home.example.test:10143/");
        EXPECT_EQ(r.text, s.referralText);
    }
}

// D-3: AUTHENTICATE names the mechanism only when configured.
TEST(LoginReferral, AuthenticateStarByDefaultMechanismWhenConfigured_D3) {
    auto f = facts(LoginCommand::Authenticate, "SCRAM-SHA-256", "bob", "h.example.test");
    EXPECT_EQ(compose(f, defaults()).code, "REFERRAL imap://bob;AUTH=*@h.example.test/");
    EXPECT_EQ(compose(f, mechanismInUrl()).code,
              "REFERRAL imap://bob;AUTH=SCRAM-SHA-256@h.example.test/");
}

// A mechanism name that is not a SASL name never reaches the URL.
TEST(LoginReferral, InvalidMechanismFallsBackToStar) {
    for (const char* mech : {"", "PL AIN", "X;Y", "A]B", "ABCDEFGHIJKLMNOPQRSTU"}) {
        auto f = facts(LoginCommand::Authenticate, mech, "bob", "h.example.test");
        EXPECT_EQ(compose(f, mechanismInUrl()).code,
                  "REFERRAL imap://bob;AUTH=*@h.example.test/")
            << mech;
    }
}

// R5092-1: no port when it is 143.
TEST(LoginReferral, DefaultPortOmitted_R5092_1) {
    EXPECT_EQ(compose(facts(LoginCommand::Login, "PLAIN", "bob", "192.0.2.7"), defaults()).code,
              "REFERRAL imap://bob;AUTH=*@192.0.2.7/");
}

// D-12, R5092-11: UTF-8 and reserved characters, uppercase hex.
TEST(LoginReferral, UserPercentEncodedUppercase_D12) {
    auto f = facts(LoginCommand::Login, "PLAIN", "j\xC3\xBCrgen@ex;a/b%c+d", "h.example.test");
    EXPECT_EQ(compose(f, defaults()).code,
              "REFERRAL imap://j%C3%BCrgen%40ex%3Ba%2Fb%25c+d;AUTH=*@h.example.test/");
}

// D-2: no user known -> ;AUTH=* alone, never an anonymous URL.
TEST(LoginReferral, EmptyUserStillCarriesAuth_D2) {
    EXPECT_EQ(compose(facts(LoginCommand::Login, "PLAIN", "", "h.example.test"), defaults()).code,
              "REFERRAL imap://;AUTH=*@h.example.test/");
}

// D-4, D-17: unusable hosts give UNAVAILABLE, never a URL; the log line
// quotes the value without raw control bytes.
TEST(LoginReferral, UnusableHostNeverWritesUrl_D4_D17) {
    for (const char* host : {"", "::1", "[2001:db8::7]", "evil]host", "a\r\nb OK [REFERRAL x]",
                             "a b", "h.example.test.", "-x.example", "x_y.example"}) {
        LoginReply r = compose(facts(LoginCommand::Login, "PLAIN", "bob", host), defaults());
        EXPECT_FALSE(r.referral) << host;
        EXPECT_EQ(r.code, "UNAVAILABLE");
        EXPECT_EQ(r.text, "Your home server cannot be reached from here.");
        EXPECT_EQ(r.error.find('\r'), std::string::npos);
        EXPECT_EQ(r.error.find('\n'), std::string::npos);
        EXPECT_NE(r.error.find("no login referral for user \"bob\""), std::string::npos) << r.error;
    }
    std::string long_host(300, 'a');
    EXPECT_FALSE(compose(facts(LoginCommand::Login, "PLAIN", "bob", long_host), defaults()).referral);
}

TEST(LoginReferral, PortZeroRefused) {
    EXPECT_FALSE(compose(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 0),
                                      defaults()).referral);
}

// R3501-2, R3501-4: the passdb reason is sanitised; empty -> referral_text.
TEST(LoginReferral, ReasonSanitised_R3501_2) {
    auto f = facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 143, "Go\r\nthere \xC3\xA9");
    LoginReply r = compose(f, defaults());
    EXPECT_EQ(r.text.find_first_of("\r\n"), std::string::npos);
    for (unsigned char c : r.text) EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << r.text;
    EXPECT_EQ(r.text.rfind("Go", 0), 0u);
    LoginSettings s;
    s.referralText = "Use your home server.";
    EXPECT_EQ(compose(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test"), s).text,
              "Use your home server.");
}

// The referral passdb sends the prepared referral_text as `reason`: it is
// written as it is.  Any other reason is sanitized, also one that differs
// from it only by what sanitizing changes.
TEST(LoginReferral, PreparedTextAsReasonAndOtherReasons_R3501_2) {
    LoginSettings s;
    s.referralText = "Use your home server. ";  // wire-safe, but trimmed on the wire
    const LoginReplyPresets presets = prepareLoginReply(s);
    EXPECT_EQ(presets.referralText, "Use your home server.");
    for (const char* reason : {"", "Use your home server.", "Use your home server. ",
                               " Use your home server."}) {
        LoginReply r;
        composeInto(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 143, reason), s,
                    &r);
        EXPECT_EQ(r.text, "Use your home server.") << reason;
    }
    LoginReply r;
    composeInto(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 143,
                      "Use your home server.\x1b[2J"), s, &r);
    EXPECT_EQ(r.text, "Use your home server.?[2J");
    composeInto(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 143,
                      "Use your home server.\r\n"), s, &r);
    EXPECT_EQ(r.text, "Use your home server.??");
    // A text sanitizing leaves nothing of gives the referral passdb's
    // fallback (wireReferralText), for the text and for a blank reason.
    s.referralText = "   ";
    EXPECT_EQ(prepareLoginReply(s).referralText, "Try this server instead.");
    composeInto(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 143, " "), s, &r);
    EXPECT_EQ(r.text, "Try this server instead.");
    s.referralText = "Go\r\nthere";
    EXPECT_EQ(compose(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test"), s).text,
              "Go??there");
}

// R2221-13, D-16: the drain greeting carries no user and ;AUTH=*.
TEST(DrainGreeting, ShapeAndPort_R2221_13) {
    LoginSettings s;
    s.drainHost = "other.example.test";
    std::string error;
    EXPECT_EQ(composeDrainGreeting(s, &error),
              "* BYE [REFERRAL imap://;AUTH=*@other.example.test/] Server not accepting connections.\r\n");
    s.drainPort = 10143;
    s.drainText = "Maintenance.";
    EXPECT_EQ(composeDrainGreeting(s, &error),
              "* BYE [REFERRAL imap://;AUTH=*@other.example.test:10143/] Maintenance.\r\n");
}

TEST(DrainGreeting, BadHostRefused_D4) {
    for (const char* host : {"::1", "bad]host", "", "a b"}) {
        LoginSettings s;
        s.drainHost = host;
        std::string error;
        EXPECT_EQ(composeDrainGreeting(s, &error), "") << host;
        EXPECT_NE(error.find("is not a DNS name or IPv4 address"), std::string::npos) << error;
    }
}

// One LoginReply serves every login of a process: nothing of the previous
// login stays in it, whatever the order of referrals and refusals.
TEST(LoginReferral, ReusedReplyKeepsNothingOfTheLastLogin) {
    LoginReply r;
    composeInto(facts(LoginCommand::Login, "PLAIN", "bob", "h.example.test", 10143, "Go."), defaults(), &r);
    EXPECT_EQ(r.code, "REFERRAL imap://bob;AUTH=*@h.example.test:10143/");
    EXPECT_EQ(r.url(), "imap://bob;AUTH=*@h.example.test:10143/");
    EXPECT_EQ(r.text, "Go.");
    EXPECT_EQ(r.error, "");
    composeInto(facts(LoginCommand::Login, "PLAIN", "eve", "bad]host"), defaults(), &r);
    EXPECT_FALSE(r.referral);
    EXPECT_EQ(r.code, "UNAVAILABLE");
    EXPECT_EQ(r.url(), "");
    EXPECT_NE(r.error.find("no login referral for user \"eve\""), std::string::npos) << r.error;
    composeInto(facts(LoginCommand::Login, "PLAIN", "al", "x.example.test"), defaults(), &r);
    EXPECT_TRUE(r.referral);
    EXPECT_EQ(r.code, "REFERRAL imap://al;AUTH=*@x.example.test/");
    EXPECT_EQ(r.text, defaults().referralText);
    EXPECT_EQ(r.error, "");
}

// R2221-16 in the connection's one info line (Dovecot's): target, command
// and user of each referral, the user escaped so that it cannot end the
// note; an OK referral and the proxy-suggest hint say so.
TEST(ReferralNote, NamesTargetCommandAndUser_R2221_16) {
    std::string notes;
    appendReferralNote(&notes, "", "imap://bob;AUTH=*@h.example.test/", "", LoginCommand::Login,
                       "bob", "bob");
    appendReferralNote(&notes, "", "imap://x;AUTH=*@h/", "", LoginCommand::Authenticate,
                       "e>v)\r\n,e", "x");
    EXPECT_EQ(notes, "; referral imap://bob;AUTH=*@h.example.test/ (LOGIN)"
                     "; referral imap://x;AUTH=*@h/ (AUTHENTICATE as "
                     "<e\\x3Ev)\\x0D\\x0A\\x2Ce>)");
    notes.clear();
    appendReferralNote(&notes, "OK ", "imap://sue;AUTH=*@h/", "", LoginCommand::Login, "sue", "sue");
    appendReferralNote(&notes, "OK ", "imap://pat;AUTH=*@h/", " (hint on a proxied session)",
                       LoginCommand::Authenticate, "pat", "pat");
    EXPECT_EQ(notes, "; OK referral imap://sue;AUTH=*@h/ (LOGIN)"
                     "; OK referral imap://pat;AUTH=*@h/ (hint on a proxied session) "
                     "(AUTHENTICATE)");
}

// The login name is left out only when the URL shows exactly it: another
// user in the URL (a passdb destuser), a name the URL percent-encodes, or
// no name at all keep "as <name>".
TEST(ReferralNote, LoginNameNamedUnlessTheUrlShowsIt_R2221_16) {
    const struct {
        const char* login;
        const char* urlUser;
        const char* url;
        const char* expected;
    } cases[] = {
        {"alice", "alice", "imap://alice;AUTH=*@h/", "; referral imap://alice;AUTH=*@h/ (LOGIN)"},
        {"alice", "a.smith", "imap://a.smith;AUTH=*@h/",
         "; referral imap://a.smith;AUTH=*@h/ (LOGIN as <alice>)"},
        {"al@ex", "al@ex", "imap://al%40ex;AUTH=*@h/",
         "; referral imap://al%40ex;AUTH=*@h/ (LOGIN as <al@ex>)"},
        {"al ice", "al ice", "imap://al%20ice;AUTH=*@h/",
         "; referral imap://al%20ice;AUTH=*@h/ (LOGIN as <al ice>)"},
        {"", "", "imap://;AUTH=*@h/", "; referral imap://;AUTH=*@h/ (LOGIN as <>)"},
        {"Alice", "alice", "imap://alice;AUTH=*@h/",
         "; referral imap://alice;AUTH=*@h/ (LOGIN as <Alice>)"},
    };
    for (const auto& c : cases) {
        std::string note;
        appendReferralNote(&note, "", c.url, "", LoginCommand::Login, c.login, c.urlUser);
        EXPECT_EQ(note, c.expected) << c.login;
    }
}

// A hostile login name can neither start a new log line nor pass for
// another item of the line Dovecot adds after the note ("user=<...>, rip="):
// ">" would close the name, "," start an item, and a literal "\x3E" in a
// name must not read as an escaped ">".
TEST(ReferralNote, UserNameCannotForgeLinesOrItems) {
    std::string note;
    appendReferralNote(&note, "", "imap://x/", "", LoginCommand::Login,
                       "eve\r\nimap-login: Info: forged", "eve\r\nimap-login: Info: forged");
    EXPECT_EQ(note.find('\r'), std::string::npos);
    EXPECT_EQ(note.find('\n'), std::string::npos);
    EXPECT_NE(note.find("(LOGIN as <eve\\x0D\\x0Aimap-login: Info: forged>)"), std::string::npos)
        << note;
    note.clear();
    appendReferralNote(&note, "", "imap://x/", "", LoginCommand::Login,
                       "a>, rip=10.0.0.1, x=<\\x3E", "a>, rip=10.0.0.1, x=<\\x3E");
    EXPECT_EQ(note, "; referral imap://x/ (LOGIN as "
                    "<a\\x3E\\x2C rip=10.0.0.1\\x2C x=\\x3C\\x5Cx3E>)");
}

}  // namespace
}  // namespace dref
