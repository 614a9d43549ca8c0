// Directory: user and remote-mailbox lookups on ldap::Client with a TTL
// cache.  Everything here runs on the caller's thread; the only concurrency
// is inside ldap::Client.  Answers, cached or not, always arrive through
// the client's process(), never from inside lookupUser() and friends.
#include "directory.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <limits>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <unordered_set>

#include "entry_mapping.h"
#include "process_secrets.h"
#include "ttl_cache.h"
#include "user_answer_blob.h"

namespace dref {
namespace {

using Clock = std::chrono::steady_clock;

int64_t usSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

ldap::ClientSettings clientSettings(const DirectorySettings& d) {
    ldap::ClientSettings c;
    c.uris = d.uris;
    c.bindDn = d.bindDn;
    c.bindPassword = d.bindPassword;
    c.saslMech = d.saslMech;
    c.startTls = d.startTls;
    c.tlsCaFile = d.tlsCaFile;
    c.tlsRequireCert = d.tlsRequireCert;
    c.connectTimeoutMs = d.connectTimeoutMs;
    c.timeoutMs = d.timeoutMs;
    c.backoffMaxMs = d.backoffMaxMs;
    c.backoffMinMs = std::min(c.backoffMinMs, std::max(1, d.backoffMaxMs));
    c.chaseReferrals = d.chaseReferrals;
    return c;
}

// The settings the directory works with: without password_attribute unless
// the caller reads passwords (DirectoryOptions::readPasswords), so that the
// attribute is neither requested nor mapped nor cached there.
DirectorySettings withoutPasswords(DirectorySettings s, const DirectoryOptions& options) {
    if (!options.readPasswords) s.passwordAttribute.clear();
    return s;
}

bool parseScope(const std::string& text, ldap::Scope* scope) {
    if (text == "base") *scope = ldap::Scope::Base;
    else if (text == "one" || text == "onelevel") *scope = ldap::Scope::OneLevel;
    else if (text == "sub" || text == "subtree") *scope = ldap::Scope::Subtree;
    else return false;
    return true;
}

std::string failureText(const ldap::SearchResult& r) {
    std::string text = ldap::resultStatusName(r.status);
    if (!r.error.empty()) text += ": " + r.error;
    return text;
}

class DirectoryImpl final : public Directory {
public:
    DirectoryImpl(const DirectorySettings& s, ldap::Scope userScope,
                  std::unique_ptr<ldap::Client> client, const DirectoryOptions& options)
        : s_(withoutPasswords(s, options)), userScope_(userScope), client_(std::move(client)),
          users_(s.cacheSize, std::numeric_limits<size_t>::max(), TtlCache<std::pmr::string>::Expired::Keep,
                 &userMemory_),
          mailboxes_(options.cacheMailboxes ? s.cacheSize : 0),
          encodeMailboxes_(options.encodeMailboxes) {
        for (const std::string* a : {&s_.homeServerAttribute, &s_.homeUrlAttribute,
                                     &s_.policyAttribute, &s_.referralUserAttribute,
                                     &s_.passwordAttribute}) {
            if (!a->empty() &&
                std::find(userAttributes_.begin(), userAttributes_.end(), *a) == userAttributes_.end()) {
                userAttributes_.push_back(*a);
            }
        }
        if (userAttributes_.empty()) userAttributes_.push_back("1.1");  // RFC 4511: no attributes
    }

    ~DirectoryImpl() override {
        if (hit_.record.password) overwriteString(&*hit_.record.password);
    }

    int eventFd() const override { return client_->eventFd(); }
    void process() override { client_->process(); }

    uint64_t lookupUser(const std::string& loginName,
                        std::function<void(UserLookupResult&&)> callback) override {
        return userOperation(loginName, std::move(callback), true);
    }

    uint64_t refreshUser(const std::string& loginName,
                         std::function<void(UserLookupResult&&)> callback) override {
        return userOperation(loginName, std::move(callback), false);
    }

    const UserLookupResult* cachedUser(const std::string& loginName) override {
        return cachedHit(loginName);
    }

    uint64_t lookupRemoteMailboxes(const std::string& loginName,
                                   std::function<void(MailboxLookupResult&&)> callback) override {
        const uint64_t id = nextId_++;
        ops_[id];
        auto deliver = [this, id, callback = std::move(callback)](MailboxLookupResult&& r) {
            ops_.erase(id);
            callback(std::move(r));
        };
        const auto start = Clock::now();
        if (const MailboxLookupResult* hit = mailboxes_.get(loginName, start)) {
            ++stats_.cacheHits;
            MailboxLookupResult copy = *hit;
            copy.fromCache = true;
            copy.elapsedUs = 0;
            track(id, client_->defer([deliver, copy = std::move(copy)]() mutable {
                deliver(std::move(copy));
            }));
            return id;
        }
        ++stats_.cacheMisses;
        fetchUser(id, loginName, false, [this, id, loginName, start, deliver](UserLookupResult&& user) {
            if (user.status != DirectoryStatus::Found) {
                MailboxLookupResult r;
                r.status = user.status;
                r.error = user.error;
                r.warnings = std::move(user.warnings);
                r.elapsedUs = usSince(start);
                deliver(std::move(r));
                return;
            }
            searchMailboxes(id, loginName, user, start, deliver);
        });
        return id;
    }

    void cancel(uint64_t id) override {
        auto it = ops_.find(id);
        if (it == ops_.end()) return;
        for (uint64_t clientId : it->second) client_->cancel(clientId);
        ops_.erase(it);
    }

    DirectoryStats stats() const override {
        DirectoryStats st = stats_;
        st.cacheEntries = users_.size() + mailboxes_.size();
        return st;
    }

    ldap::ClientStats ldapStats() const override { return client_->stats(); }

private:
    using UserDone = std::function<void(UserLookupResult&&)>;
    using MailboxDone = std::function<void(MailboxLookupResult&&)>;

    // lookupUser() / refreshUser(): one operation (cancel() id) with the
    // last-answer fallback; useCache false searches past a live answer.
    uint64_t userOperation(const std::string& loginName, std::function<void(UserLookupResult&&)> callback,
                           bool useCache) {
        const uint64_t id = nextId_++;
        ops_[id];
        fetchUser(id, loginName, true, [this, id, callback = std::move(callback)](UserLookupResult&& r) {
            ops_.erase(id);
            callback(std::move(r));
        }, useCache);
        return id;
    }

    // Remembers the client requests of an operation so cancel() can stop
    // them; ids of requests already finished are harmless to cancel.
    void track(uint64_t op, uint64_t clientId) {
        auto it = ops_.find(op);
        if (it != ops_.end()) it->second.push_back(clientId);
    }

    // The live cache entry of `loginName`, counted as a hit; nullptr when
    // there is none (not counted: the caller's search counts the miss).
    // The answer is decoded into hit_, whose strings keep their storage
    // from one hit to the next: a warm login allocates nothing here.
    const UserLookupResult* cachedHit(const std::string& loginName) {
        const std::pmr::string* blob = users_.get(loginName, Clock::now());
        if (blob == nullptr || !decodeUserAnswer(*blob, &hit_)) return nullptr;
        ++stats_.cacheHits;
        if (hit_.status == DirectoryStatus::NotFound) ++stats_.negativeHits;
        return &hit_;
    }

    // The user's last answer, however old, marked stale with a warning that
    // says why and how far past its TTL; nullopt when there is none (never
    // asked, evicted, or cache_ttl = 0).
    std::optional<UserLookupResult> lastKnownUser(const std::string& loginName, const std::string& error) {
        Clock::duration expiredFor{};
        const std::pmr::string* last = users_.lastKnown(loginName, Clock::now(), &expiredFor);
        UserLookupResult stale;
        if (last == nullptr || !decodeUserAnswer(*last, &stale)) return std::nullopt;
        stale.stale = true;
        stale.warnings.push_back(
            "directory unavailable (" + error + "): using the last answer, " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(expiredFor).count()) +
            " s past its cache TTL");
        ++stats_.staleHits;
        return stale;
    }

    // lastAnswer: fall back to the user's last answer when the directory
    // cannot be asked (lookupUser(); see directory.h).
    // useCache false: search even when a live answer is cached (refreshUser).
    void fetchUser(uint64_t op, const std::string& loginName, bool lastAnswer, UserDone done,
                   bool useCache = true) {
        if (const UserLookupResult* hit = useCache ? cachedHit(loginName) : nullptr) {
            UserLookupResult copy = *hit;
            copy.fromCache = true;
            copy.elapsedUs = 0;
            track(op, client_->defer([done = std::move(done), copy = std::move(copy)]() mutable {
                done(std::move(copy));
            }));
            return;
        }
        ++stats_.cacheMisses;
        ldap::SearchRequest req;
        req.base = s_.userBase;
        req.scope = userScope_;
        req.filter = expandUserFilter(s_.userFilter, loginName);
        req.attributes = userAttributes_;
        // Two entries are enough to know the answer is ambiguous.
        req.sizeLimit = 2;
        track(op, client_->search(std::move(req), [this, loginName, lastAnswer,
                                                   done = std::move(done)](ldap::SearchResult&& sr) {
            done(userResult(loginName, lastAnswer, std::move(sr)));
        }));
    }

    UserLookupResult userResult(const std::string& loginName, bool lastAnswer, ldap::SearchResult&& sr) {
        UserLookupResult r;
        // The directory's latency: from the request until the worker had the
        // answer (not including the wait for the caller's next process()).
        r.elapsedUs = sr.elapsedUs;
        const bool ok = sr.status == ldap::ResultStatus::Ok || sr.sizeLimitExceeded;
        if (!ok) {
            r.status = DirectoryStatus::Unavailable;
            r.error = sr.status == ldap::ResultStatus::NoSuchObject
                          ? "user_base '" + s_.userBase + "' does not exist"
                          : failureText(sr);
            // A missing user_base is the directory's answer (a configuration
            // or a directory to repair), not an outage: no fallback.  The
            // failure itself is never cached: the next lookup asks again.
            if (lastAnswer && sr.status != ldap::ResultStatus::NoSuchObject) {
                if (std::optional<UserLookupResult> last = lastKnownUser(loginName, r.error)) {
                    last->elapsedUs = sr.elapsedUs;
                    return std::move(*last);
                }
            }
            return r;
        }
        switch (mapUserEntries(sr.entries, s_, &r.record, &r.warnings, sr.sizeLimitExceeded)) {
        case UserMappingStatus::NotFound: r.status = DirectoryStatus::NotFound; break;
        case UserMappingStatus::Found:
        case UserMappingStatus::Ambiguous: r.status = DirectoryStatus::Found; break;
        }
        const int ttlMs = r.status == DirectoryStatus::NotFound ? s_.negativeCacheTtlMs : s_.cacheTtlMs;
        std::pmr::string cached(&userMemory_);
        encodeUserAnswer(r, &cached);
        users_.put(loginName, std::move(cached), std::chrono::milliseconds(ttlMs), Clock::now());
        return r;
    }

    struct Gather {
        MailboxLookupResult result;
        std::vector<RemoteMailbox> personal;
        std::vector<RemoteMailbox> shared;
        // encodeMailboxes_: the searches' mappers, which hold the encoded lines.
        std::shared_ptr<MailboxEntryMapper> personalEncoded;
        std::shared_ptr<MailboxEntryMapper> sharedEncoded;
        int outstanding = 0;
        bool failed = false;
    };

    void searchMailboxes(uint64_t op, const std::string& loginName, const UserLookupResult& user,
                         Clock::time_point start, const MailboxDone& deliver) {
        auto gather = std::make_shared<Gather>();
        gather->result.warnings = user.warnings;
        std::vector<std::pair<std::string, bool>> bases;  // base, personal
        if (!user.record.dn.empty()) {
            bases.emplace_back(user.record.dn, true);
        } else {
            gather->result.warnings.push_back("no unique user entry: personal remote mailboxes not read");
        }
        if (!s_.mailboxSharedBase.empty()) bases.emplace_back(s_.mailboxSharedBase, false);
        gather->outstanding = static_cast<int>(bases.size());
        if (bases.empty()) {
            finishMailboxes(loginName, *gather, start, deliver);
            return;
        }
        const size_t limit = s_.mailboxMaxEntries;
        for (const auto& [base, personal] : bases) {
            ldap::SearchRequest req;
            req.base = base;
            req.scope = ldap::Scope::Subtree;
            req.filter = s_.mailboxFilter;
            req.attributes = {s_.mailboxNameAttribute, s_.mailboxUrlAttribute};
            req.sizeLimit = limit < static_cast<size_t>(INT_MAX) ? static_cast<int>(limit) + 1 : 0;
            // Mapped on the worker thread as the entries arrive.
            auto mapper = std::make_shared<MailboxEntryMapper>(personal, s_, encodeMailboxes_);
            req.consumer = mapper;
            const bool isPersonal = personal;
            const std::string baseDn = base;
            track(op, client_->search(std::move(req), [this, gather, isPersonal, baseDn, loginName,
                                                       start, deliver,
                                                       mapper](ldap::SearchResult&& sr) {
                onMailboxSearch(*gather, isPersonal, baseDn, std::move(sr), mapper);
                if (--gather->outstanding == 0) finishMailboxes(loginName, *gather, start, deliver);
            }));
        }
    }

    void onMailboxSearch(Gather& g, bool personal, const std::string& base, ldap::SearchResult&& sr,
                         const std::shared_ptr<MailboxEntryMapper>& mapper) {
        MailboxEntryMapper& mapped = *mapper;
        if (sr.status == ldap::ResultStatus::NoSuchObject) {
            if (!personal) g.result.warnings.push_back("mailbox_shared_base '" + base + "' does not exist");
            return;
        }
        if (sr.status != ldap::ResultStatus::Ok && !sr.sizeLimitExceeded) {
            if (!g.failed) g.result.error = (personal ? "personal" : "shared") +
                                            std::string(" remote mailboxes: ") + failureText(sr);
            g.failed = true;
            return;
        }
        if (sr.sizeLimitExceeded) {
            g.result.warnings.push_back("more than " + std::to_string(s_.mailboxMaxEntries) +
                                        " remote mailbox entries under '" + base + "'; the rest ignored");
        }
        for (std::string& w : mapped.warnings()) g.result.warnings.push_back(std::move(w));
        if (encodeMailboxes_) {
            (personal ? g.personalEncoded : g.sharedEncoded) = mapper;  // one search per base
            return;
        }
        std::vector<RemoteMailbox>& into = personal ? g.personal : g.shared;
        if (into.empty())
            into = std::move(mapped.mailboxes());
        else
            into.insert(into.end(), std::make_move_iterator(mapped.mailboxes().begin()),
                        std::make_move_iterator(mapped.mailboxes().end()));
    }

    void finishMailboxes(const std::string& loginName, Gather& g, Clock::time_point start,
                         const MailboxDone& deliver) {
        MailboxLookupResult r = std::move(g.result);
        if (g.failed) {
            r.status = DirectoryStatus::Unavailable;
            r.elapsedUs = usSince(start);
            deliver(std::move(r));  // not cached
            return;
        }
        r.status = DirectoryStatus::Found;
        if (encodeMailboxes_) {
            finishEncoded(g, &r);
        } else {
            finishMapped(g, &r);
        }
        // A copy only when it is kept: the referral-directory service keeps
        // encoded answers of its own (mailboxes_ has no room), and a copy of
        // 1,000 mailboxes costs more than their mapping.
        if (mailboxes_.capacity() > 0)
            mailboxes_.put(loginName, r, std::chrono::milliseconds(s_.cacheTtlMs), Clock::now());
        r.elapsedUs = usSince(start);
        deliver(std::move(r));
    }

    // Personal placements first: on equal names they are the more specific.
    // A shared base that contains user entries finds personal mailboxes a
    // second time: keep them once, as personal.  At most mailbox_max_entries.
    // `kept` holds the personal ones; dnOf gives an item's DN.
    template <typename Item, typename DnOf>
    void mergeShared(std::vector<Item>* kept, std::vector<Item>&& shared, DnOf dnOf,
                     std::vector<std::string>* warnings) const {
        if (!shared.empty()) {
            // Reserved first: the set holds views of the DNs of *kept.
            kept->reserve(kept->size() + shared.size());
            std::unordered_set<std::string_view> personalDns;
            for (const Item& m : *kept) personalDns.insert(dnOf(m));
            for (Item& m : shared) {
                if (personalDns.count(dnOf(m)) == 0) kept->push_back(std::move(m));
            }
        }
        if (kept->size() > s_.mailboxMaxEntries) {
            warnings->push_back(std::to_string(kept->size()) + " remote mailboxes; only the first " +
                                std::to_string(s_.mailboxMaxEntries) +
                                " (mailbox_max_entries) are used");
            kept->resize(s_.mailboxMaxEntries);
        }
    }

    void finishMapped(Gather& g, MailboxLookupResult* r) {
        r->mailboxes = std::move(g.personal);
        mergeShared(&r->mailboxes, std::move(g.shared),
                    [](const RemoteMailbox& m) { return std::string_view(m.dn); }, &r->warnings);
    }

    // The same choice on the mappers' encoded mailboxes, then their lines in
    // that order.
    void finishEncoded(Gather& g, MailboxLookupResult* r) {
        using Item = std::pair<const MailboxEntryMapper*, const EncodedMailbox*>;
        auto items = [](const std::shared_ptr<MailboxEntryMapper>& mapper) {
            std::vector<Item> out;
            if (!mapper) return out;
            out.reserve(mapper->encoded().size());
            for (const EncodedMailbox& e : mapper->encoded()) out.emplace_back(mapper.get(), &e);
            return out;
        };
        std::vector<Item> kept = items(g.personalEncoded);
        mergeShared(&kept, items(g.sharedEncoded),
                    [](const Item& i) { return std::string_view(i.second->dn); }, &r->warnings);
        r->encoded = true;
        size_t bytes = 0;
        for (const Item& i : kept) bytes += i.second->length;
        r->encodedLines.reserve(bytes);
        for (const auto& [mapper, e] : kept) {
            if (!e->error.empty()) {
                // Never a partial table (the service then says why).
                r->encodeError = e->error;
                r->encodedLines.clear();
                return;
            }
            r->encodedLines.append(mapper->lines(), e->offset, e->length);
        }
        r->encodedCount = kept.size();
    }

    DirectorySettings s_;
    ldap::Scope userScope_;
    std::unique_ptr<ldap::Client> client_;
    std::vector<std::string> userAttributes_;
    // The user cache's entries, in blocks of their own (ttl_cache.h says
    // why); declared before the cache, which it must outlive.
    std::pmr::unsynchronized_pool_resource userMemory_;
    TtlCache<std::pmr::string> users_;
    UserLookupResult hit_;  // cachedHit()'s answer
    TtlCache<MailboxLookupResult> mailboxes_;
    const bool encodeMailboxes_;
    DirectoryStats stats_;
    uint64_t nextId_ = 1;
    std::unordered_map<uint64_t, std::vector<uint64_t>> ops_;
};

}  // namespace

std::unique_ptr<Directory> Directory::create(const Settings& settings, std::string* error,
                                             const DirectoryOptions& options) {
    const DirectorySettings& d = settings.directory;
    if (d.userBase.empty()) {
        *error = "user_base is not set";
        return nullptr;
    }
    ldap::Scope scope;
    if (!parseScope(d.userScope, &scope)) {
        *error = "user_scope '" + d.userScope + "' is not base, one or sub";
        return nullptr;
    }
    std::string clientError;
    ldap::ClientSettings cs = clientSettings(d);
    cs.searchOnCallerThread = options.searchOnCallerThread;
    auto client = ldap::Client::create(cs, &clientError);
    if (!client) {
        *error = clientError;
        return nullptr;
    }
    try {
        return std::make_unique<DirectoryImpl>(d, scope, std::move(client), options);
    } catch (const std::exception& e) {
        *error = std::string("cannot create the directory: ") + e.what();
    }
    return nullptr;
}

}  // namespace dref
