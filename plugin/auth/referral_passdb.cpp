// Asynchronous home-server lookup for one auth request, and the mapping of
// its outcome onto Dovecot's passdb answer (see referral_passdb.h).
extern "C" {
#include "auth-common.h"
#include "auth-fields.h"
#include "auth-request.h"
#include "ioloop.h"
#include "passdb.h"
}

#include <chrono>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "client_id_name.h"
#include "dovecot_compat.h"
#include "event_interest.h"
#include "ip_text.h"
#include "passdb_reply.h"
#include "pending_lookup.h"
#include "process_secrets.h"
#include "referral_decision.h"
#include "referral_fields.h"
#include "referral_passdb.h"
#include "response_text.h"

namespace dref {

namespace {

const char* lookupResultName(DirectoryStatus s) {
    switch (s) {
    case DirectoryStatus::Found: return "found";
    case DirectoryStatus::NotFound: return "not_found";
    case DirectoryStatus::Unavailable: return "unavailable";
    }
    return "unavailable";
}

// The listener's address as text only when something reads it (a
// listener_rule, or the lookup's debug line): net_ip2addr is a good part
// of a warm login's cost otherwise.
ClientFacts clientFacts(const struct auth_request* request, bool needLocalIp) {
    ClientFacts f;
    f.loginUser = request->fields.user != nullptr ? request->fields.user : "";
    if (request->fields.client_id != nullptr) f.clientIdName = clientIdName(request->fields.client_id);
    if (needLocalIp) {
        // appendIpAddress(): net_ip2addr()'s inet_ntop() is a sprintf per octet.
        const struct ip_addr& ip = request->fields.local_ip;
        if (ip.family == AF_INET)
            appendIpAddress(&f.localIp, IpFamily::V4, reinterpret_cast<const unsigned char*>(&ip.u.ip4));
        else if (ip.family == AF_INET6)
            appendIpAddress(&f.localIp, IpFamily::V6, reinterpret_cast<const unsigned char*>(&ip.u.ip6));
    }
    f.localPort = request->fields.local_port;
    f.secured = connectionSecured(request);
    f.protocol = protocolFromService(requestService(request));
    return f;
}

// The referral_* fields an earlier passdb of the chain set (nullopt: not
// set), as views of the request's strings: they stay in the request's pool
// until the request is freed, and the views are used within start() only.
// One pass over the request's fields (auth_fields_find() per name went
// through them five times at every login); a key is in the list at most
// once (auth_fields_add() replaces).
ReferralFields passdbReferralFields(struct auth_request* request) {
    ReferralFields f;
    struct auth_fields* fields = request->fields.extra_fields;
    if (fields == nullptr || auth_fields_is_empty(fields)) return f;
    constexpr std::string_view kPrefix = "referral_";
    const std::pair<std::string_view, std::optional<std::string_view>*> slots[] = {
        {kFieldHomeServer, &f.homeServer}, {kFieldUrl, &f.url},     {kFieldPolicy, &f.policy},
        {kFieldUser, &f.user},             {kFieldSet, &f.fieldSet}};
    unsigned int count = 0;
    const auto* list =
        static_cast<const struct auth_field*>(array_get(auth_fields_export(fields), &count));
    for (unsigned int i = 0; i < count; ++i) {
        const std::string_view key = list[i].key;
        if (key.compare(0, kPrefix.size(), kPrefix) != 0) continue;
        for (const auto& slot : slots) {
            if (key == slot.first) {
                *slot.second = std::string_view(list[i].value);
                break;
            }
        }
    }
    return f;
}

}  // namespace

ReferralPassdb::ReferralPassdb(Settings settings)
    : settings_(std::move(settings)), replySettings_(settings_.login) {
    wipeString(&settings_.login.proxyMasterPassword);
}

ReferralPassdb::~ReferralPassdb() {
    shutdown();
}

void ReferralPassdb::onDirectoryReadable(ReferralPassdb* self) {
    try {
        self->directory_->process();
    } catch (const std::exception& e) {
        i_error("passdb referral: directory processing failed: %s", e.what());
    } catch (...) {
        i_error("passdb referral: directory processing failed");
    }
}

bool ReferralPassdb::ensureDirectory(std::string* error) {
    if (directory_) return true;
    DirectoryOptions options;
    options.readPasswords = passwordMode();
    // A cold login's search from the auth process's own ioloop, as Dovecot's
    // passdb ldap does it: a hand-off to the LDAP worker thread and back
    // cost two wake-ups and context switches per cold login (issue 13
    // item 3).  The worker still connects and binds (blocking calls).
    options.searchOnCallerThread = true;
    directory_ = Directory::create(settings_, error, options);
    if (!directory_) return false;
    io_ = io_add(directory_->eventFd(), IO_READ, onDirectoryReadable, this);
    return true;
}

void ReferralPassdb::start(struct auth_request* request, void* plainCallback,
                           void* credentialsCallback) {
    auto p = std::make_shared<PendingLookup>();
    p->request = request;
    p->plainCallback = reinterpret_cast<verify_plain_callback_t*>(plainCallback);
    p->credentialsCallback = reinterpret_cast<lookup_credentials_callback_t*>(credentialsCallback);
    p->started = std::chrono::steady_clock::now();
    // Our reference keeps the request alive until answer(): Dovecot gives a
    // passdb no abort hook, so a request whose client went away is answered
    // normally and Dovecot drops the reply (its handler is marked
    // destroyed), as with passdb-ldap.  shutdown() cancels the directory
    // lookups still pending and answers them.
    auth_request_ref(request);
    try {
        p->eventsWanted = debugEventsWanted(authdb_event(request));
        p->facts = clientFacts(request, p->eventsWanted || !settings_.decision.listenerRules.empty());
        if (p->eventsWanted) lookupEvent(*p);
        // An earlier passdb that verified the password (continue-ok) set
        // skip_password_check; then this one only places the user, as in
        // chain mode.
        p->checkPassword = passwordMode() && !request->fields.skip_password_check;
        if (p->facts.protocol == Protocol::Other && !p->checkPassword) {
            // Postfix's SASL ("smtp") and other services without a session
            // here: decide() answers local whatever the directory says, so
            // no search, and no wait for a directory that is down.
            UserLookupResult none;
            none.status = DirectoryStatus::NotFound;
            finish(p, none);
            return;
        }
        // The earlier passdb may already have read the placement (issue 13):
        // then no search, same validation (recordFromReferralFields).  Not
        // when the password is still to be checked: it is in the directory.
        ReferralFields fields;
        if (!p->checkPassword) fields = passdbReferralFields(request);
        std::string missing;
        const ReferralFieldSet fieldSet = classifyReferralFields(fields, settings_.directory, &missing);
        p->hasReferralFields = p->checkPassword || fieldSet != ReferralFieldSet::None;
        switch (fieldSet) {
        case ReferralFieldSet::Complete: {
            UserLookupResult result;
            result.status = DirectoryStatus::Found;
            recordFromReferralFields(fields, settings_.directory, &result.record, &result.warnings);
            p->fromFields = true;
            finish(p, result);
            return;
        }
        case ReferralFieldSet::Partial:
            if (p->eventsWanted)
                e_debug(lookupEvent(*p), "passdb fields incomplete (%s not set): asking the directory",
                    missing.c_str());
            break;
        case ReferralFieldSet::None: break;
        }
        std::string error;
        if (!ensureDirectory(&error)) {
            e_error(lookupEvent(*p), "temporary failure: directory unusable: %s", error.c_str());
            answer(*p, internalFailure());
            dropEvent(*p);
            return;
        }
        // A warm login: the directory's cache answers here, inside
        // Dovecot's call, without a round through the directory's event fd
        // and the ioloop (Dovecot's own auth cache is not used for this
        // passdb, see passdb_module.cpp).
        if (const UserLookupResult* cached = directory_->cachedUser(p->facts.loginUser)) {
            finish(p, *cached);
            return;
        }
        if (p->eventsWanted)
            e_debug(event_create_passthrough(lookupEvent(*p))->set_name("referral_lookup_started")->event(),
                    "home server lookup started (client id \"%s\", listener %s:%u)",
                    quoteForLog(p->facts.clientIdName).c_str(), p->facts.localIp.c_str(),
                    static_cast<unsigned>(p->facts.localPort));
        pending_.insert(p);
        p->id = directory_->lookupUser(p->facts.loginUser, [this, p](UserLookupResult&& result) {
            finishAndWipe(p, std::move(result));
        });
    } catch (const std::exception& e) {
        pending_.erase(p);
        answerInternalError(*p, PassdbStep::Lookup, e.what());
    } catch (...) {
        pending_.erase(p);
        answerInternalError(*p, PassdbStep::Lookup, nullptr);
    }
}

namespace {

// Level of the decision line.  A referral or proxy the login process
// carries out is logged there at info (the login plugin's "login referral
// to <url>", Dovecot's "proxy(...): started proxying"): one info line per
// referral (R2221-16), not two.  So here they are debug, like local; a
// refusal (credentials mechanism without proxy_master_user) stays info,
// nothing else says why; failures are warnings.
enum log_type decisionLogLevel(const Decision& d, const PassdbReply& reply) {
    const bool carriedOut = reply.outcome == PassdbOutcome::Ok &&
                            (d.kind == DecisionKind::Refer || d.kind == DecisionKind::Suggest ||
                             d.kind == DecisionKind::Proxy || d.kind == DecisionKind::ProxySuggest);
    if (d.kind == DecisionKind::Local || carriedOut) return LOG_TYPE_DEBUG;
    if (d.kind == DecisionKind::TempFail || reply.outcome == PassdbOutcome::InternalFailure)
        return LOG_TYPE_WARNING;
    return LOG_TYPE_INFO;
}

// The lookup's warnings, then the request's own event as
// referral_lookup_finished and then as referral_decision (which so also
// carries the lookup's fields): a passthrough event per line would cost a
// warm login more than the decision itself.  Except with log_debug set:
// Dovecot keeps an event's first log_debug verdict, so a filter on the
// second name would never match the renamed event (event_interest.h).
void logOutcome(PendingLookup& p, const UserLookupResult& result, long long usecs,
                const Decision& d, const PassdbReply& reply, const ReplySettings& replySettings,
                const ReplyContext& ctx, enum log_type level) {
    struct event* e = lookupEvent(p);
    const bool eventPerLine = debugLogFilterSet();
    auto named = [e, eventPerLine](const char* name) -> struct event* {
        if (!eventPerLine) {
            event_set_name(e, name);
            return e;
        }
        return event_create_passthrough(e)->set_name(name)->event();
    };
    // Field warnings already start with "passdb fields: ".  Written before
    // the event gets its name, so that they are not counted as
    // referral_lookup_finished events.  Why an entry has no usable home
    // server is in the decision line (decisionWhy) and in these warnings.
    for (const std::string& w : result.warnings)
        e_warning(e, "%s%s", p.fromFields ? "" : "directory: ", quoteForLog(w, 300).c_str());

    event_add_int(e, "duration_usecs", usecs);
    event_add_str(e, "result", lookupResultName(result.status));
    // stale: the directory could not be asked and this is the user's last
    // answer (its warning above says why and how old).
    const char* cacheKind = p.fromFields     ? "fields"
                            : result.stale     ? "stale"
                            : result.fromCache ? "hit"
                                               : "miss";
    event_add_str(e, "cache", cacheKind);
    if (result.status == DirectoryStatus::Unavailable) {
        event_add_str(e, "error", result.error.c_str());
        e_warning(named("referral_lookup_finished"), "home server lookup failed after %lld us: %s",
                  usecs, quoteForLog(result.error, 200).c_str());
    } else {
        e_debug(named("referral_lookup_finished"), "home server lookup: %s in %lld us (%s)",
                lookupResultName(result.status), usecs,
                p.fromFields     ? "from passdb fields"
                : result.stale     ? "last answer: directory unavailable"
                : result.fromCache ? "cache hit"
                                   : "cache miss");
    }

    event_add_str(e, "decision", decisionKindName(d.kind));
    event_add_str(e, "source", d.source.c_str());
    if (!d.target.host.empty()) {
        event_add_str(e, "target_host", d.target.host.c_str());
        event_add_int(e, "target_port", d.target.port);
    }
    struct event* de = named("referral_decision");
    // e_debug/e_info/e_warning build the arguments, and so the decision's
    // and the answer's text, only when the line is wanted (2.4's e_log
    // would build them always).
#define DREF_DECISION_LINE(log)                                                               \
    log(de, "decision %s (source %s, %s, client id \"%s\"): %s; %s", decisionKindName(d.kind), \
        d.source.c_str(), protocolName(p.facts.protocol),                                     \
        quoteForLog(p.facts.clientIdName).c_str(),                                            \
        passdbReplyLogLine(d, reply, replySettings, ctx).c_str(),                             \
        quoteForLog(decisionWhy(d, result.record, p.facts), 300).c_str())
    if (level == LOG_TYPE_DEBUG)
        DREF_DECISION_LINE(e_debug);
    else if (level == LOG_TYPE_WARNING)
        DREF_DECISION_LINE(e_warning);
    else
        DREF_DECISION_LINE(e_info);
#undef DREF_DECISION_LINE
}

}  // namespace

void ReferralPassdb::finishAndWipe(const std::shared_ptr<PendingLookup>& p,
                                   UserLookupResult&& result) {
    // Password mode: this login's own answer holds the stored hash (the
    // directory's cache keeps its own); overwritten once answered.
    std::string noPassword;
    const WipeOnExit wipeStored(result.record.password ? &*result.record.password : &noPassword);
    finish(p, result);
}

void ReferralPassdb::finish(const std::shared_ptr<PendingLookup>& p, const UserLookupResult& result) {
    if (p->request == nullptr) return;  // already answered (shutdown)
    pending_.erase(p);
    PassdbReply reply;
    StoredPasswordParts stored;
    bool haveStored = false;
    bool servedHere = false;  // the decision: this server serves the session
    try {
        if (p->checkPassword) {
            const bool goOn = p->plainCallback != nullptr
                                  ? passwordAccepted(p, result)
                                  : credentialsLookup(p, result, &stored, &haveStored);
            if (!goOn) return;
        }
        auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - p->started).count();
        // No text yet: a warm referral login writes no line (logOutcome).
        const Decision d = decide(toLookupStatus(result.status), result.record, p->facts,
                                  settings_.decision);
        servedHere = d.kind == DecisionKind::Local;
        ReplyContext ctx;
        ctx.loginUser = p->facts.loginUser;
        ctx.plaintextMech = p->plainCallback != nullptr;
        ctx.credentialsLookup = p->credentialsCallback != nullptr;
        ctx.protocol = p->facts.protocol;
        reply = buildPassdbReply(d, replySettings_, ctx);
        // Password mode with the directory down and no last answer: the
        // password was never checked, so no exemption from
        // auth_failure_delay (buildPassdbReply assumes a checked one).
        if (p->checkPassword && result.status == DirectoryStatus::Unavailable) reply.noDelay = false;
        const enum log_type level = decisionLogLevel(d, reply);
        // Nothing to write and no one to see the events (event_interest.h):
        // a warm referral login skips their fields altogether.
        if (p->eventsWanted || level != LOG_TYPE_DEBUG || !result.warnings.empty() ||
            result.status == DirectoryStatus::Unavailable)
            logOutcome(*p, result, static_cast<long long>(usecs), d, reply, replySettings_, ctx, level);
    } catch (const std::exception& e) {
        pending_.erase(p);  // a failed ask-again
        answerInternalError(*p, PassdbStep::Decision, e.what());
        return;
    } catch (...) {
        pending_.erase(p);
        answerInternalError(*p, PassdbStep::Decision, nullptr);
        return;
    }
    if (p->request == nullptr) return;  // answered already: never twice
    // Only a login that goes on here, whose password was checked (by this
    // passdb, or by the earlier one: skip = unauthenticated lets nothing
    // else through), for IMAP with a password (verify_plain: never a
    // credentials lookup, whose mechanism checks later), and not while the
    // directory is failing.
    if (reply.outcome == PassdbOutcome::Ok && servedHere &&
        p->facts.protocol == Protocol::Imap && p->plainCallback != nullptr &&
        result.status != DirectoryStatus::Unavailable &&
        (p->checkPassword || p->request->fields.skip_password_check))
        prefetchMailboxes(*p);
    answer(*p, reply, haveStored ? &stored : nullptr);
    dropEvent(*p);
}

void ReferralPassdb::prefetchMailboxes(const PendingLookup& p) noexcept {
    try {
        if (!prefetchSetUp_) {
            prefetchSetUp_ = true;
            prefetch_ = LoginPrefetch::create(settings_, baseDir(p.request));
        }
        if (prefetch_) prefetch_->send(p.facts.loginUser);
    } catch (const std::exception& e) {  // std::bad_alloc: no hint, the login goes on
        i_error("passdb referral: directory prefetch: %s", e.what());
    } catch (...) {
        i_error("passdb referral: directory prefetch failed");
    }
}

void ReferralPassdb::shutdown() {
    auto pending = std::move(pending_);
    pending_.clear();
    size_t unanswered = 0;
    for (const auto& p : pending) {
        if (directory_) directory_->cancel(p->id);
        if (p->request != nullptr) {
            answer(*p, internalFailure());
            ++unanswered;
        }
        if (p->event != nullptr) event_unref(&p->event);
    }
    // One line, not one per login: a shutdown can cut many lookups short.
    if (unanswered > 0)
        i_warning("passdb referral: auth process shutting down: NO [UNAVAILABLE] to %zu logins "
                  "still waiting for the directory", unanswered);
    if (io_ != nullptr) io_remove(&io_);
    directory_.reset();
    prefetch_.reset();
}

}  // namespace dref
