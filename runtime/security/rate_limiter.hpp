// Token buckets keyed by who is asking (a client address, a token's subject, either per
// route), shared by every thread of a gateway. A bucket holds up to `requests` tokens and
// refills at requests / window; a request takes one.
//
// Memory is bounded whatever callers send: a bucket that has refilled completely is the same
// as no bucket and is dropped when room is needed, and at `max_buckets` the least recently
// used bucket goes (its key starts over, full). Keys are the caller's to bound (addresses,
// subjects of verified tokens). Plain C++, no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::security {

struct rate_limit {
  std::int64_t requests = 0;         // per window; 0: no limit
  std::chrono::seconds window{900};  // at least 1 s
  bool off() const { return requests == 0; }
};

// What one take() found, for the RateLimit-* response fields (IETF draft
// "RateLimit header fields for HTTP") and Retry-After.
struct rate_decision {
  bool allowed = true;
  std::int64_t limit = 0;          // the bucket's size
  std::int64_t remaining = 0;      // whole tokens left after this request
  std::int64_t reset_s = 0;        // seconds until the bucket is full again
  std::int64_t retry_after_s = 0;  // refused: seconds until one token is back (at least 1)
};

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(std::size_t max_buckets = 100'000);

  // Takes a token from `key`'s bucket under `limit` (which must not be off).
  rate_decision take(std::string_view key, const rate_limit& limit, clock::time_point now);

  std::size_t buckets() const;  // held now, across shards
  std::size_t max_buckets() const { return shards_.size() * per_shard_; }

 private:
  struct bucket {
    double tokens = 0;
    clock::time_point last;
    double capacity = 0, per_second = 0;
    bool full_at(clock::time_point now) const;
  };
  struct shard {
    mutable std::mutex mtx;
    std::unordered_map<std::string, bucket> buckets;
  };
  void make_room(shard& s, clock::time_point now);

  std::vector<std::unique_ptr<shard>> shards_;
  std::size_t per_shard_;
};

// The client a request counts against: the socket peer, or, when the peer is a trusted proxy,
// the right-most X-Forwarded-For address that is not itself a trusted proxy (the left-most
// ones are whatever the client wrote). `forwarded_for` may be empty; of a long one only the
// last 1 KiB is read. A malformed hop, or only trusted ones, count as the peer.
std::string client_of(std::string_view peer, std::string_view forwarded_for,
                      const std::vector<std::string>& trusted_proxies);

}  // namespace troupe::security
