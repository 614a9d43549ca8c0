#include "referral_fields.h"

#include <array>

#include "user_record_mapping.h"

namespace dref {
namespace {

struct FieldSlot {
    const std::optional<std::string_view>* field;
    const char* name;
    const std::string* attribute;  // empty: the directory does not read it either
};

// A fixed array, no allocation: this runs at every warm login with the fields.
std::array<FieldSlot, 4> slots(const ReferralFields& f, const DirectorySettings& s) {
    return {{{&f.homeServer, kFieldHomeServer, &s.homeServerAttribute},
             {&f.url, kFieldUrl, &s.homeUrlAttribute},
             {&f.policy, kFieldPolicy, &s.policyAttribute},
             {&f.user, kFieldUser, &s.referralUserAttribute}}};
}

bool isFieldSetSeparator(char c) { return c == '+' || c == ' ' || c == ':'; }

// `name` is one of the names in the kFieldSet value (separated by '+', ' '
// or ':').  One pass over the list: std::string_view::find_first_of() looks
// each octet up in the separator set with a memchr() call, a good part of a
// warm login's field handling when a field is absent.
bool namedInFieldSet(const std::optional<std::string_view>& fieldSet, std::string_view name) {
    if (!fieldSet) return false;
    const std::string_view list = *fieldSet;
    size_t start = 0;
    for (size_t i = 0; i <= list.size(); ++i) {
        if (i < list.size() && !isFieldSetSeparator(list[i])) continue;
        if (list.substr(start, i - start) == name) return true;
        start = i + 1;
    }
    return false;
}

}  // namespace

ReferralFieldSet classifyReferralFields(const ReferralFields& fields, const DirectorySettings& s,
                                        std::string* missing) {
    size_t set = 0, wanted = 0;
    bool allWanted = true;
    const std::array<FieldSlot, 4> all = slots(fields, s);
    auto has = [&fields](const FieldSlot& slot) {
        return slot.field->has_value() || namedInFieldSet(fields.fieldSet, slot.name);
    };
    for (const FieldSlot& slot : all) {
        const bool present = has(slot);
        if (present) ++set;
        if (slot.attribute->empty()) continue;
        ++wanted;
        if (!present) allWanted = false;
    }
    if (set == 0 && !fields.fieldSet) return ReferralFieldSet::None;
    if (allWanted && wanted > 0) return ReferralFieldSet::Complete;
    // The names of the missing fields, for the debug line: built only for
    // a partial set (a login without fields, the common case in chain and
    // password mode, used to build this list for nothing).
    if (missing != nullptr) {
        missing->clear();
        for (const FieldSlot& slot : all) {
            if (slot.attribute->empty() || has(slot)) continue;
            if (!missing->empty()) *missing += ", ";
            *missing += slot.name;
        }
    }
    return ReferralFieldSet::Partial;
}

void recordFromReferralFields(const ReferralFields& fields, const DirectorySettings& s,
                              UserRecord* record, std::vector<std::string>* warnings) {
    *record = UserRecord{};
    PlacementValues pv;
    PlacementValue* targets[4] = {&pv.homeServer, &pv.homeUrl, &pv.policy, &pv.referralUser};
    size_t i = 0;
    for (const FieldSlot& slot : slots(fields, s)) {
        // A field whose attribute is not configured is ignored, as the
        // directory ignores that attribute.  An unset field is an absent
        // attribute, like an empty one; TAB separates several values.
        if (!slot.attribute->empty()) {
            targets[i]->name = slot.name;
            targets[i]->tabJoined = slot.field->value_or(std::string_view());
        }
        ++i;
    }
    mapPlacementValues(pv, s.homePort, "passdb fields", record, warnings);
}

}  // namespace dref
