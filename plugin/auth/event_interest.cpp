// Cheap test of "can a debug event of ours reach anyone" (event_interest.h).
// The same Dovecot API in 2.3 and 2.4: event_filter_replace_counter and the
// three global filters of event-log.h.
extern "C" {
#include "lib.h"
#include "event-filter.h"
#include "str.h"
}

#include "event_interest.h"

namespace dref {
namespace {

// The statistics client installs its filter even when no metric is
// configured, as an empty filter: only a non-empty one can select events.
bool selectsAnything(struct event_filter* filter) {
    if (filter == nullptr) return false;
    bool any = false;
    T_BEGIN {
        string_t* text = t_str_new(128);
        event_filter_export(filter, text);
        any = str_len(text) > 0;
    } T_END;
    return any;
}

struct GlobalFilters {
    bool any = true;       // some filter can select a debug event
    bool logDebug = true;  // log_debug is one of them
};

// Recomputed only when Dovecot replaced a global filter (the counter moves
// with every set/unset, e.g. the stats handshake or a reload).
const GlobalFilters& globalFilters() {
    static unsigned int checkedAt = 0;  // Dovecot's counter starts at 1
    static GlobalFilters filters;
    if (checkedAt != event_filter_replace_counter) {
        filters.logDebug = selectsAnything(event_get_global_debug_log_filter());
        filters.any = filters.logDebug ||
                      selectsAnything(event_get_global_debug_send_filter()) ||
                      selectsAnything(event_get_global_core_log_filter());
        checkedAt = event_filter_replace_counter;
    }
    return filters;
}

}  // namespace

bool debugEventsWanted(struct event* parent) noexcept {
    // With no filter, a child event logs debug exactly when its parent
    // does (forced_debug and min_log_level are inherited at event_create).
    return globalFilters().any || event_want_debug_log(parent);
}

bool debugLogFilterSet() noexcept {
    return globalFilters().logDebug;
}

}  // namespace dref
