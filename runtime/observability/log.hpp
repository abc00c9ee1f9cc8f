// One-line logs on stderr: time, level, component, message.
#pragma once

#include <string_view>

namespace troupe {

void log_info(std::string_view component, std::string_view message);
void log_warn(std::string_view component, std::string_view message);
void log_error(std::string_view component, std::string_view message);

}  // namespace troupe
