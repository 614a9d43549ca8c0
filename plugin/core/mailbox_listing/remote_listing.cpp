#include "remote_listing.h"

#include <algorithm>

#include "ascii.h"

namespace dref {
namespace {

enum class Children { Unknown, Has, HasNo };

// One remote name of the merged view: an entry, or an inferior its owner
// listed.
struct Known {
    bool entry = false;
    bool noselect = false;
    Children children = Children::Unknown;
};

bool matchesAny(const std::vector<ListPattern>& patterns, std::string_view name) {
    for (const ListPattern& p : patterns)
        if (p.matches(name)) return true;
    return false;
}

// Every remote name the session knows, with what is known of it.
std::map<std::string, Known, std::less<>> mergedNames(const RemoteListInput& in) {
    const RemoteMailboxTable& table = *in.table;
    const char sep = table.separator();
    std::map<std::string, Known, std::less<>> names;
    for (const RemoteMailboxEntry& e : table.entries()) {
        Known& k = names[std::string(e.vname())];
        k.entry = true;
        auto owner = in.owners.find(e.vname());
        const bool answered = owner != in.owners.end() && owner->second != nullptr;
        if (table.hasRemoteInferiors(e.vname()) || (answered && !owner->second->empty()))
            k.children = Children::Has;
        else if (answered)
            k.children = Children::HasNo;
        if (!answered) continue;
        const std::vector<OwnerMailbox>& below = *owner->second;  // sorted by vname
        for (size_t i = 0; i < below.size(); ++i) {
            Known& inf = names[below[i].vname];
            inf.noselect = below[i].noselect;
            std::string prefix = below[i].vname;
            prefix.push_back(sep);
            const bool ownerChild = i + 1 < below.size() &&
                                    below[i + 1].vname.compare(0, prefix.size(), prefix) == 0;
            inf.children = ownerChild || table.hasRemoteInferiors(below[i].vname) ? Children::Has
                                                                                  : Children::HasNo;
        }
    }
    return names;
}

// True when `vname` lies in a remote entry's subtree (or is an entry).
bool insideRemote(const RemoteMailboxTable& table, std::string_view vname) {
    return table.find(vname).has_value();
}

void appendAttribute(std::string* attrs, const char* a) {
    if (!attrs->empty()) attrs->push_back(' ');
    attrs->append(a);
}

std::string attributesFor(const RemoteListRequest& req, const Known& k, bool subscribed,
                          bool nonexistent) {
    std::string a;
    if (nonexistent)
        appendAttribute(&a, "\\NonExistent");
    else if (k.noselect)
        appendAttribute(&a, "\\Noselect");
    if (req.childrenAttributes && k.children == Children::Has) appendAttribute(&a, "\\HasChildren");
    if (req.childrenAttributes && k.children == Children::HasNo)
        appendAttribute(&a, "\\HasNoChildren");
    if (req.remoteAttribute) appendAttribute(&a, "\\Remote");
    if (req.subscribedAttribute && subscribed) appendAttribute(&a, "\\Subscribed");
    return a;
}

// A level on the way to remote names that no listing names itself: shown
// with a trailing "%" (RFC 3501 §6.3.8) as \Noselect.
Known levelKnown() {
    Known k;
    k.noselect = true;
    k.children = Children::Has;
    return k;
}

std::vector<RemoteListLine> listAll(const RemoteListRequest& req, const RemoteListInput& in) {
    const RemoteMailboxTable& table = *in.table;
    const char sep = table.separator();
    const auto names = mergedNames(in);
    std::map<std::string, RemoteListLine> out;
    for (const auto& [name, k] : names) {
        if (!matchesAny(req.patterns, name)) continue;
        RemoteListLine line;
        line.vname = name;
        line.attributes = attributesFor(req, k, in.subscribed.count(name) != 0, false);
        out.emplace(name, std::move(line));
    }
    bool percent = false;
    for (const ListPattern& p : req.patterns) percent = percent || p.endsWithPercent();
    if (percent) {
        for (const auto& entry : names) {
            const std::string& name = entry.first;
            for (size_t pos = name.find(sep); pos != std::string::npos; pos = name.find(sep, pos + 1)) {
                std::string level = name.substr(0, pos);
                if (out.count(level) != 0 || names.count(level) != 0) continue;
                bool wanted = false;
                for (const ListPattern& p : req.patterns)
                    wanted = wanted || (p.endsWithPercent() && p.matches(level));
                if (!wanted) continue;
                // A local mailbox of that name is Dovecot's line (with its
                // \HasChildren corrected by the glue).
                if (!insideRemote(table, level) && in.existsLocally && in.existsLocally(level))
                    continue;
                RemoteListLine line;
                line.vname = level;
                line.attributes =
                    attributesFor(req, levelKnown(), in.subscribed.count(level) != 0, false);
                out.emplace(level, std::move(line));
            }
        }
    }
    std::vector<RemoteListLine> lines;
    lines.reserve(out.size());
    for (auto& l : out) lines.push_back(std::move(l.second));
    return lines;
}

// RECURSIVEMATCH: a remote parent that matches, is not subscribed and
// has a subscribed descendant is listed too: LIST-EXTENDED marks it with
// CHILDINFO ("SUBSCRIBED") (RFC 5258 §3.5), LSUB with \Noselect, and LSUB
// only with a trailing "%" (RFC 3501 §6.3.9).  Parents outside every
// remote subtree are Dovecot's (its subscriptions hold these names).
void addSubscribedParents(const RemoteListRequest& req, const RemoteListInput& in,
                          const std::map<std::string, Known, std::less<>>& names,
                          std::map<std::string, RemoteListLine>* outp) {
    const RemoteMailboxTable& table = *in.table;
    const char sep = table.separator();
    auto& out = *outp;
    for (const std::string& s : in.subscribed) {
        for (size_t pos = s.find(sep); pos != std::string::npos; pos = s.find(sep, pos + 1)) {
            std::string parent = s.substr(0, pos);
            if (out.count(parent) != 0 || in.subscribed.count(parent) != 0) continue;
            if (!insideRemote(table, parent)) continue;
            bool wanted = false;
            for (const ListPattern& p : req.patterns)
                wanted = wanted || (p.matches(parent) && (!req.lsub || p.endsWithPercent()));
            if (!wanted) continue;
            RemoteListLine line;
            line.vname = parent;
            if (req.lsub) {
                line.attributes = "\\Noselect";
            } else {
                auto known = names.find(parent);
                line.attributes = attributesFor(req, known != names.end() ? known->second : Known(),
                                                false, false);
                line.childSubscribed = true;
            }
            out.emplace(parent, std::move(line));
        }
    }
}

std::vector<RemoteListLine> listSubscribed(const RemoteListRequest& req, const RemoteListInput& in) {
    const RemoteMailboxTable& table = *in.table;
    const auto names = mergedNames(in);
    std::map<std::string, RemoteListLine> out;
    for (const std::string& s : in.subscribed) {
        if (!matchesAny(req.patterns, s)) continue;
        auto known = names.find(s);
        Known k = known != names.end() ? known->second : Known();
        // Subscribed below an entry whose owner answered without it: the
        // mailbox does not exist (RFC 5258 \NonExistent; LSUB has no such
        // attribute and lists the subscription as it is).
        bool nonexistent = false;
        if (known == names.end() && !req.lsub) {
            std::optional<RemoteMailboxMatch> m = table.find(s);
            nonexistent = m && in.owners.count(m->entry.vname()) != 0 &&
                          in.owners.find(m->entry.vname())->second != nullptr;
        }
        RemoteListLine line;
        line.vname = s;
        line.attributes = req.lsub ? std::string() : attributesFor(req, k, true, nonexistent);
        out.emplace(s, std::move(line));
    }
    if (req.recursiveMatch) addSubscribedParents(req, in, names, &out);
    std::vector<RemoteListLine> lines;
    lines.reserve(out.size());
    for (auto& l : out) lines.push_back(std::move(l.second));
    return lines;
}

}  // namespace

bool parseListOptions(const std::vector<std::string>& selection,
                      const std::vector<std::string>& returns, ListOptions* o) {
    for (const std::string& s : selection) {
        if (equalsIgnoreCaseAscii(s, "SUBSCRIBED"))
            o->selectSubscribed = true;
        else if (equalsIgnoreCaseAscii(s, "REMOTE"))
            o->selectRemote = true;
        else if (equalsIgnoreCaseAscii(s, "RECURSIVEMATCH"))
            o->recursiveMatch = true;
        else if (equalsIgnoreCaseAscii(s, "SPECIAL-USE"))
            o->selectSpecialUse = true;
        else
            return false;
    }
    // RFC 5258 §3.1: RECURSIVEMATCH needs another option it modifies;
    // Dovecot counts SUBSCRIBED and SPECIAL-USE (REMOTE does not).
    if (o->recursiveMatch && !o->selectSubscribed && !o->selectSpecialUse) return false;
    for (const std::string& r : returns) {
        if (equalsIgnoreCaseAscii(r, "CHILDREN"))
            o->returnChildren = true;
        else if (equalsIgnoreCaseAscii(r, "SUBSCRIBED"))
            o->returnSubscribed = true;
        else if (!equalsIgnoreCaseAscii(r, "SPECIAL-USE") && !equalsIgnoreCaseAscii(r, "STATUS"))
            return false;
    }
    return true;
}

RemoteListRequest makeListRequest(ListFlavour flavour, const ListOptions& o, bool ownersConfigured) {
    RemoteListRequest r;
    r.askOwners = ownersConfigured;
    switch (flavour) {
        case ListFlavour::Rlist:
            // RLIST is LIST plus the remote names (R2193-27): LIST's children
            // attributes where they are known.
            r.childrenAttributes = true;
            break;
        case ListFlavour::Rlsub:
        case ListFlavour::RelayedLsub:
            r.lsub = r.subscribedOnly = r.recursiveMatch = true;
            break;
        case ListFlavour::ListRemote:
        case ListFlavour::Relayed:
            r.remoteAttribute = flavour == ListFlavour::ListRemote;
            r.subscribedOnly = o.selectSubscribed;
            r.recursiveMatch = o.recursiveMatch && o.selectSubscribed;
            r.subscribedAttribute = o.selectSubscribed || o.returnSubscribed;
            // Plain LIST always carries children attributes (Dovecot's
            // default); LIST-EXTENDED only with RETURN (CHILDREN).
            r.childrenAttributes = !o.extended || o.returnChildren;
            // No remote mailbox has a special use.
            r.selectsNothing = o.selectSpecialUse;
            break;
    }
    return r;
}

std::vector<RemoteMailboxEntry> entriesToAsk(const RemoteListRequest& req,
                                             const RemoteMailboxTable& table) {
    std::vector<RemoteMailboxEntry> out;
    if (!req.askOwners || req.selectsNothing) return out;
    // Subscriptions are this server's: only children attributes need owners.
    if (req.subscribedOnly && !req.childrenAttributes) return out;
    for (const RemoteMailboxEntry& e : table.entries()) {
        bool ask = false;
        for (const ListPattern& p : req.patterns) {
            if ((req.childrenAttributes && p.matches(e.vname())) || p.mayMatchBelow(e.vname())) {
                ask = true;
                break;
            }
        }
        if (ask) out.push_back(e);
    }
    return out;
}

std::vector<RemoteListLine> buildRemoteListing(const RemoteListRequest& request,
                                               const RemoteListInput& input) {
    if (input.table == nullptr || request.patterns.empty() || request.selectsNothing) return {};
    return request.subscribedOnly ? listSubscribed(request, input) : listAll(request, input);
}

}  // namespace dref
