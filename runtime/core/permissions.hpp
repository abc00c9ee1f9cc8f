// Which capabilities may call which operations of a capability: the topology's
// "permissions", the article's service tokens. The callee checks every request against the
// caller named in its call context; between nodes that name is as trustworthy as the node
// that wrote it, which node-to-node TLS (security.tls) makes a member of the cluster.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "runtime/core/call_context.hpp"

namespace troupe {

class call_permissions {
 public:
  // `allowed`: caller -> the operations it may call ("*": every one). A capability may
  // always call itself (its sagas' steps do). `report` is told of each refusal (the node
  // logs it, at most once a second); may be empty.
  call_permissions(std::string callee, std::map<std::string, std::set<std::string>> allowed,
                   std::function<void(const std::string&)> report = {});

  // Nothing when ctx.caller may call `operation`; else forbidden (403), naming both.
  caf::error check(const call_context& ctx, std::string_view operation) const;

 private:
  std::string callee_;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> allowed_;
  std::function<void(const std::string&)> report_;
};

}  // namespace troupe
