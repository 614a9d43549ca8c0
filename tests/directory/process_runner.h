#pragma once
// Runs a program (argv, no shell) with a time limit and captures its output.
// Test support only.
#include <string>
#include <vector>

namespace dref::test {

struct ProcessResult {
    int exitCode = -1;  // -1: killed (timeout) or could not start
    std::string out;
    std::string err;
};

// The child gets stdin from `input` (empty: /dev/null).  After `timeoutMs`
// its process group is killed.
ProcessResult runProcess(const std::vector<std::string>& argv, int timeoutMs = 30000,
                         const std::string& input = std::string());

}  // namespace dref::test
