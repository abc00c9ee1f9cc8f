#include "runtime/core/permissions.hpp"

#include "runtime/core/error.hpp"

namespace troupe {

call_permissions::call_permissions(std::string callee,
                                   std::map<std::string, std::set<std::string>> allowed,
                                   std::function<void(const std::string&)> report)
    : callee_(std::move(callee)), report_(std::move(report)) {
  for (auto& [caller, operations] : allowed)
    allowed_.emplace(caller,
                     std::set<std::string, std::less<>>(operations.begin(), operations.end()));
}

caf::error call_permissions::check(const call_context& ctx, std::string_view operation) const {
  if (ctx.caller == callee_) return {};
  auto it = allowed_.find(ctx.caller);
  if (it != allowed_.end() &&
      (it->second.count("*") > 0 || it->second.find(operation) != it->second.end()))
    return {};
  auto who = ctx.caller.empty() ? std::string("a caller without a name") : "'" + ctx.caller + "'";
  auto why = who + " may not call " + callee_ + "." + std::string(operation) +
             " (the topology's permissions)";
  if (report_) report_(why);
  return make_error(errc::forbidden, why);
}

}  // namespace troupe
