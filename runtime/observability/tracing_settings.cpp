// The topology's "tracing" section, read and checked (tracing.hpp).
#include "runtime/observability/tracing.hpp"

namespace troupe::tracing {

settings read_settings(settings_reader& r) {
  settings t;
  auto exporter = r.text("exporter", 8, "none");
  if (exporter == "otlp")
    t.kind = settings::exporter::otlp;
  else if (exporter == "file")
    t.kind = settings::exporter::file;
  else if (exporter != "none")
    throw settings_error(r.path_of("exporter"), "must be \"otlp\", \"file\" or \"none\"");
  t.endpoint = r.optional_text("endpoint", 2048, "");
  t.file = r.optional_text("file", 4096, "");
  t.sample_ratio = r.number("sample_ratio", 0, 1, t.sample_ratio);
  t.queue_size = static_cast<std::size_t>(r.integer("queue_size", 1, 1'000'000, 4096));
  t.batch_size = static_cast<std::size_t>(r.integer("batch_size", 1, 10'000, 512));
  t.flush_interval = r.milliseconds("flush_interval_ms", 10, 60'000, 1000);
  t.export_timeout = r.milliseconds("export_timeout_ms", 100, 60'000, 5000);
  t.max_file_bytes = static_cast<std::uint64_t>(r.integer("max_file_mb", 1, 1 << 20, 256)) << 20;
  if (t.kind == settings::exporter::otlp) {
    std::string why;
    if (t.endpoint.empty())
      throw settings_error(r.path_of("endpoint"), "the otlp exporter needs an endpoint");
    if (!parse_endpoint(t.endpoint, why)) throw settings_error(r.path_of("endpoint"), why);
  }
  if (t.kind == settings::exporter::file && t.file.empty())
    throw settings_error(r.path_of("file"), "the file exporter needs a file");
  return t;
}

}  // namespace troupe::tracing
