#pragma once
// Whether anything in this auth process can want the driver's debug-level
// events (referral_lookup_started, referral_lookup_finished,
// referral_decision for the decisions the login process logs): building
// their fields costs a warm login more than the decision itself (issue 13,
// docs/benchmarks.md).  Include after the Dovecot headers.
struct event;

namespace dref {

// True when a log_debug, log_core_filter or statistics (metric) filter is
// set in this process, whatever it selects (so a filter on our fields still
// sees them), or when `parent` (the passdb's event: auth_debug forces debug
// on it) logs debug itself.  False only when no filter and no debug setting
// could select a child of `parent` at debug level.  Never throws.
bool debugEventsWanted(struct event* parent) noexcept;

// True when log_debug is set.  Dovecot caches an event's log_debug verdict
// from its first check (event_want_log_level, "FIXME: this doesn't work
// correctly if event changes"), so a log_debug filter on an event name that
// is set later never matches; with one set, each line needs an event of its
// own.  Never throws.
bool debugLogFilterSet() noexcept;

}  // namespace dref
