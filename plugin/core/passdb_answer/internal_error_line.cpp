#include "internal_error_line.h"

#include "response_text.h"

namespace dref {

const char* passdbStepName(PassdbStep step) {
    switch (step) {
    case PassdbStep::Lookup: return "home server lookup";
    case PassdbStep::Decision: return "password check and decision";
    }
    return "home server lookup";
}

std::string internalErrorLogLine(PassdbStep step, const char* what) {
    std::string line = "internal error during the ";
    line += passdbStepName(step);
    line += ": ";
    line += what != nullptr ? quoteForLog(what, 200) : std::string("unknown exception");
    line += "; login answered NO [UNAVAILABLE]";
    return line;
}

}  // namespace dref
