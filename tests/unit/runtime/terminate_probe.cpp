// Linked like the plugins (static libstdc++) with their terminate handler
// (plugin/runtime/terminate_handler.cpp): lets an exception escape main so
// that check_terminate_handler.cmake can read what the handler wrote.
#include <stdexcept>

int main() { throw std::runtime_error("escaped"); }
