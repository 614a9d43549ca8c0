#include "glob_match.h"
#include "ascii.h"

namespace dref {

namespace {

// A star-free piece against text of the same length.
bool pieceMatchesAt(std::string_view piece, std::string_view text, size_t at) {
    for (size_t i = 0; i < piece.size(); ++i) {
        if (piece[i] != '?' && asciiLower(piece[i]) != asciiLower(text[at + i])) return false;
    }
    return true;
}

}  // namespace

bool globMatch(std::string_view pattern, std::string_view text) {
    const size_t firstStar = pattern.find('*');
    if (firstStar == std::string_view::npos)
        return pattern.size() == text.size() && pieceMatchesAt(pattern, text, 0);

    // Anchored head and tail pieces.
    const std::string_view head = pattern.substr(0, firstStar);
    const size_t lastStar = pattern.rfind('*');
    const std::string_view tail = pattern.substr(lastStar + 1);
    if (head.size() + tail.size() > text.size()) return false;
    if (!pieceMatchesAt(head, text, 0)) return false;
    const size_t tailAt = text.size() - tail.size();
    if (!pieceMatchesAt(tail, text, tailAt)) return false;

    // Middle pieces, in order, each at its leftmost place inside
    // [head end, tail start): taking the leftmost place never loses a match,
    // because everything a later place could match is still to the right.
    size_t pos = head.size();
    size_t p = firstStar + 1;
    while (p < lastStar) {
        const size_t nextStar = pattern.find('*', p);
        const std::string_view piece = pattern.substr(p, nextStar - p);
        p = nextStar + 1;
        if (piece.empty()) continue;
        bool found = false;
        while (pos + piece.size() <= tailAt) {
            if (pieceMatchesAt(piece, text, pos)) {
                found = true;
                break;
            }
            ++pos;
        }
        if (!found) return false;
        pos += piece.size();
    }
    return true;
}

}  // namespace dref
