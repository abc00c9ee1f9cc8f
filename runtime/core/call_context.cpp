#include "runtime/core/call_context.hpp"

#include <limits>

#include "runtime/core/ids.hpp"

namespace troupe {

namespace {

constexpr std::int64_t no_budget = std::numeric_limits<std::int64_t>::max();

}  // namespace

std::int64_t wire_budget_us(const call_context& ctx) {
  using namespace std::chrono;
  if (ctx.deadline == call_context::clock::time_point::max()) return no_budget;
  return duration_cast<microseconds>(ctx.deadline - call_context::clock::now()).count();
}

void set_deadline_from_wire(call_context& ctx, std::int64_t budget_us) {
  using namespace std::chrono;
  if (budget_us == no_budget) {
    ctx.deadline = call_context::clock::time_point::max();
    return;
  }
  // A budget beyond a day is nonsense from a peer; cap it rather than overflow the clock.
  constexpr std::int64_t day_us = 86'400'000'000;
  ctx.deadline = call_context::clock::now() + microseconds{std::min(budget_us, day_us)};
}

bool has_scope(const call_context& ctx, std::string_view scope) {
  for (auto& s : ctx.scopes)
    if (s == scope) return true;
  return false;
}

bool acts_for(const call_context& ctx, std::string_view owner) {
  if (ctx.principal.empty()) return !ctx.from_client;
  return ctx.principal == owner || has_scope(ctx, admin_scope);
}

call_context make_call_context(std::string caller, std::chrono::milliseconds budget) {
  call_context ctx;
  ctx.trace_id = random_hex(16);
  ctx.span_id = random_hex(8);
  ctx.deadline = call_context::clock::now() + budget;
  ctx.caller = std::move(caller);
  return ctx;
}

}  // namespace troupe
