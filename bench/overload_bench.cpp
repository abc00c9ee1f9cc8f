// Open-loop load against one HTTP endpoint: requests arrive at a fixed rate whether or not
// earlier ones were answered, as a shop's customers do (a closed-loop tool such as wrk slows
// down with the server, so it never offers more than the server takes).
//
// It first measures the sustainable rate (closed loop: N connections, each sending again as
// soon as it is answered), then offers phases at multiples of that rate and prints, per phase:
// offered and accepted requests/s, 503s (shed/s, and how many lacked Retry-After), other
// errors (any other status, or a broken connection), requests the client could not send
// (no connection left under --max-connections), p50/p99/max of the accepted requests measured from
// their scheduled arrival (so a queue in front of the node counts), and the node's peak RSS.
// Ratios: each phase's p99 over the first phase's, and the peak RSS over the node's RSS before the
// run.
//
// bench_overload --url http://127.0.0.1:8080/api/orders --pid PID [--method POST]
//   [--body JSON] [--label NAME] [--phases 0.5x5,1x5,2x10,0.5x2,0.5x5]
//   [--rate R (skip calibration)]
//   [--calibrate-connections 16] [--calibrate-seconds 5] [--max-connections 6000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string host, port, target, method = "GET", body, label = "node";
  std::string authorization;  // the Authorization header's value, when given
  int pid = 0;
  std::vector<std::pair<double, double>> phases{{0.5, 5}, {1, 5}, {2, 10}, {0.5, 2}, {0.5, 5}};
  double rate = 0;  // 0: calibrate
  int calibrate_connections = 16;
  double calibrate_seconds = 5;
  int max_connections = 6000;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "bench_overload: %s\n", why.c_str());
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--authorization")
      o.authorization = value();
    else if (a == "--url")
      url = value();
    else if (a == "--pid")
      o.pid = std::stoi(value());
    else if (a == "--method")
      o.method = value();
    else if (a == "--body")
      o.body = value();
    else if (a == "--label")
      o.label = value();
    else if (a == "--rate")
      o.rate = std::stod(value());
    else if (a == "--calibrate-connections")
      o.calibrate_connections = std::stoi(value());
    else if (a == "--calibrate-seconds")
      o.calibrate_seconds = std::stod(value());
    else if (a == "--max-connections")
      o.max_connections = std::stoi(value());
    else if (a == "--phases") {
      o.phases.clear();
      auto text = value();
      for (std::size_t at = 0; at < text.size();) {
        auto comma = text.find(',', at);
        auto item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        auto x = item.find('x');
        if (x == std::string::npos) usage("--phases: '" + item + "' is not MULTIPLExSECONDS");
        o.phases.emplace_back(std::stod(item.substr(0, x)), std::stod(item.substr(x + 1)));
        at = comma == std::string::npos ? text.size() : comma + 1;
      }
    } else
      usage("unknown argument " + a);
  }
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) usage("--url must start with http://");
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  o.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) usage("--url needs a port");
  o.host = authority.substr(0, colon);
  o.port = authority.substr(colon + 1);
  if (o.pid <= 0) usage("--pid (the node's process, for its RSS) is required");
  if (o.phases.empty()) usage("--phases is empty");
  return o;
}

long rss_kb(int pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct phase_stats {
  double multiple = 0, seconds = 0, rate = 0;
  long offered = 0, shed = 0, shed_without_retry_after = 0, other = 0, broken = 0;
  long not_sent = 0;  // no connection left under --max-connections: the client's limit
  std::vector<double> accepted_ms;
  long rss_peak_kb = 0;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * (v.size() - 1))];
}

class load;

// One keep-alive connection: one request at a time.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(load& owner, net::io_context& io) : owner_(owner), stream_(io) {}
  void send(clock_type::time_point scheduled, int phase);

 private:
  void write();
  void finished(beast::error_code ec);

  load& owner_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool connected_ = false;
  clock_type::time_point scheduled_;
  int phase_ = -1;  // -1: calibration (closed loop)
};

class load {
 public:
  explicit load(options o) : o_(std::move(o)), timer_(io_) {
    tcp::resolver resolver{io_};
    endpoints_ = resolver.resolve(o_.host, o_.port);
  }

  // Closed loop: the sustainable rate, from what `connections` clients get answered (2xx).
  double calibrate() {
    auto warm = clock_type::now() + std::chrono::seconds{1};
    calibration_end_ = warm + std::chrono::duration_cast<clock_type::duration>(
                                  std::chrono::duration<double>(o_.calibrate_seconds));
    calibration_start_ = warm;
    for (int i = 0; i < o_.calibrate_connections; ++i) take()->send(clock_type::now(), -1);
    io_.run();
    io_.restart();
    return calibrated_ok_ / o_.calibrate_seconds;
  }

  // Open loop: the phases at `rate` times their multiples, one after the other.
  std::vector<phase_stats> offer(double rate) {
    for (auto& [multiple, seconds] : o_.phases) {
      phase_stats p;
      p.multiple = multiple;
      p.seconds = seconds;
      p.rate = multiple * rate;
      stats_.push_back(std::move(p));
    }
    phase_start_ = clock_type::now();
    tick();
    io_.run();
    return std::move(stats_);
  }

  // Called by connections.
  std::shared_ptr<connection> take() {
    if (!idle_.empty()) {
      auto c = idle_.back();
      idle_.pop_back();
      return c;
    }
    if (open_ >= o_.max_connections) return nullptr;
    ++open_;
    return std::make_shared<connection>(*this, io_);
  }
  void answered(std::shared_ptr<connection> c, int phase, double ms, int status, bool retry_after,
                bool keep_alive) {
    --outstanding_;
    if (phase < 0) {
      auto now = clock_type::now();
      if (now >= calibration_start_ && now < calibration_end_ && status / 100 == 2)
        ++calibrated_ok_;
      if (!keep_alive) {
        c.reset();
        --open_;
      }
      if (now < calibration_end_) (c ? c : take())->send(now, -1);
      return;
    }
    auto& p = stats_[phase];
    if (status / 100 == 2)
      p.accepted_ms.push_back(ms);
    else if (status == 503)
      ++p.shed, p.shed_without_retry_after += retry_after ? 0 : 1;
    else
      ++p.other;
    if (keep_alive)
      idle_.push_back(std::move(c));
    else
      --open_;
  }
  void broke(int phase) {
    --outstanding_;
    --open_;
    if (phase >= 0)
      ++stats_[phase].broken;
    else if (clock_type::now() < calibration_end_)
      take()->send(clock_type::now(), -1);
  }
  void sent() { ++outstanding_; }

  const options& opts() const { return o_; }
  const tcp::resolver::results_type& endpoints() const { return endpoints_; }

 private:
  // Every millisecond: sends what is due, samples RSS every 100 ms, moves to the next phase.
  void tick() {
    auto now = clock_type::now();
    if (current_ < stats_.size()) {
      auto& p = stats_[current_];
      auto elapsed = std::chrono::duration<double>(now - phase_start_).count();
      auto due = static_cast<long>(std::min(elapsed, p.seconds) * p.rate);
      for (; p.offered < due; ++p.offered) {
        auto at = phase_start_ + std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(p.offered / p.rate));
        if (auto c = take())
          c->send(at, static_cast<int>(current_));
        else
          ++p.not_sent;
      }
      if (++ticks_ % 100 == 0) p.rss_peak_kb = std::max(p.rss_peak_kb, rss_kb(o_.pid));
      if (elapsed >= p.seconds) {
        ++current_;
        phase_start_ = now;
        drain_until_ = now + std::chrono::seconds{30};
      }
    } else if (outstanding_ == 0 || now > drain_until_) {
      io_.stop();  // every answer is in (or 30 s passed: those count as not answered)
      return;
    }
    timer_.expires_after(std::chrono::milliseconds{1});
    timer_.async_wait([this](beast::error_code) { tick(); });
  }

  options o_;
  net::io_context io_;
  tcp::resolver::results_type endpoints_;
  net::steady_timer timer_;
  std::vector<std::shared_ptr<connection>> idle_;
  int open_ = 0;
  long outstanding_ = 0;
  std::vector<phase_stats> stats_;
  std::size_t current_ = 0;
  clock_type::time_point phase_start_, drain_until_, calibration_start_, calibration_end_;
  long calibrated_ok_ = 0;
  long ticks_ = 0;
};

void connection::send(clock_type::time_point scheduled, int phase) {
  scheduled_ = scheduled;
  phase_ = phase;
  owner_.sent();
  auto& o = owner_.opts();
  request_ = {o.method == "POST" ? http::verb::post : http::verb::get, o.target, 11};
  request_.set(http::field::host, o.host);
  if (!o.authorization.empty()) request_.set(http::field::authorization, o.authorization);
  if (!o.body.empty()) {
    request_.set(http::field::content_type, "application/json");
    request_.body() = o.body;
  }
  request_.prepare_payload();
  stream_.expires_after(std::chrono::seconds{60});
  if (connected_) return write();
  stream_.async_connect(owner_.endpoints(),
                        [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                          if (ec) return self->finished(ec);
                          self->connected_ = true;
                          self->stream_.socket().set_option(tcp::no_delay{true});
                          self->write();
                        });
}

void connection::write() {
  http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, auto) {
    if (ec) return self->finished(ec);
    self->parser_.emplace();
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, auto) { self->finished(ec); });
  });
}

void connection::finished(beast::error_code ec) {
  if (ec) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    return owner_.broke(phase_);
  }
  auto& res = parser_->get();
  auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - scheduled_).count();
  owner_.answered(shared_from_this(), phase_, ms, res.result_int(),
                  res.find(http::field::retry_after) != res.end(), res.keep_alive());
}

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  auto rss_idle = rss_kb(o.pid);
  double rate = o.rate;
  if (rate <= 0) {
    load calibration{o};
    rate = calibration.calibrate();
    if (rate <= 0) usage("calibration got no 2xx answer: is the URL right?");
  }
  load run{o};
  auto stats = run.offer(rate);
  auto rss_after = rss_kb(o.pid);

  std::printf(
      "%s: sustainable rate %.0f req/s (%s), node RSS %.1f MB before, %.1f MB after\n",
      o.label.c_str(), rate,
      o.rate > 0
          ? "given"
          : ("closed loop, " + std::to_string(o.calibrate_connections) + " connections").c_str(),
      rss_idle / 1024.0, rss_after / 1024.0);
  std::printf("  %-6s %9s %10s %8s %7s %7s %7s %8s %8s %8s %7s %7s %6s\n", "load", "offered/s",
              "accepted/s", "shed/s", "no-R-A", "errors", "unsent", "p50 ms", "p99 ms", "max ms",
              "p99 x", "RSS MB", "RSS x");
  double p99_first = 0;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    auto& p = stats[i];
    auto p50 = percentile(p.accepted_ms, 0.5), p99 = percentile(p.accepted_ms, 0.99);
    auto max = p.accepted_ms.empty() ? 0 : p.accepted_ms.back();
    if (i == 0) p99_first = p99;
    char load_name[16];
    std::snprintf(load_name, sizeof load_name, "%.1fx", p.multiple);
    std::printf("  %-6s %9.0f %10.0f %8.0f %7ld %7ld %7ld %8.1f %8.1f %8.1f %6.1fx %7.1f %5.2fx\n",
                load_name, p.offered / p.seconds, p.accepted_ms.size() / p.seconds,
                p.shed / p.seconds, p.shed_without_retry_after, p.other + p.broken, p.not_sent, p50,
                p99, max, p99_first > 0 ? p99 / p99_first : 0.0, p.rss_peak_kb / 1024.0,
                rss_idle > 0 ? static_cast<double>(p.rss_peak_kb) / rss_idle : 0.0);
  }
  return 0;
}
