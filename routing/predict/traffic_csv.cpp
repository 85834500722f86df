// SPDX-License-Identifier: BSD-3-Clause
#include "traffic_csv.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <string_view>
#include <utility>

namespace meshgw::routing::predict {

namespace {

constexpr std::string_view kHeader = "t,timestamp,src,dst,value";
constexpr std::size_t kFields = 5;
constexpr std::size_t kShownChars = 40;  // of a bad field, in messages

std::string shown(std::string_view text) {
  std::string s(text.substr(0, kShownChars));
  if (text.size() > kShownChars) s += "...";
  return "'" + s + "'";
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

bool parse_int(std::string_view text, std::int64_t& out, int base = 10) {
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, out, base);
  return r.ec == std::errc() && r.ptr == end && !text.empty();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// YYYY-MM-DDTHH:MM:SS -> seconds since the epoch; false if malformed or out of range.
bool parse_timestamp(std::string_view s, std::int64_t& seconds) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
  std::int64_t year, month, day, hour, minute, second;
  const auto digits = [&s](std::size_t at, std::size_t n, std::int64_t& v) {
    for (std::size_t i = at; i < at + n; ++i)
      if (s[i] < '0' || s[i] > '9') return false;
    return parse_int(s.substr(at, n), v);
  };
  if (!digits(0, 4, year) || !digits(5, 2, month) || !digits(8, 2, day) || !digits(11, 2, hour) ||
      !digits(14, 2, minute) || !digits(17, 2, second))
    return false;
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  const std::int64_t days_in_month = kDaysIn[month - 1] + (month == 2 && leap(year) ? 1 : 0);
  if (day < 1 || day > days_in_month) return false;
  seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return true;
}

double parse_value(std::string_view text, std::size_t line) {
  double v = 0.0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (r.ptr != end || text.empty() || (r.ec != std::errc() && r.ec != std::errc::result_out_of_range))
    throw TrafficCsvError(line, "value", shown(text) + " is not a number");
  if (r.ec == std::errc::result_out_of_range) {
    // Too small for a double (1e-400) is zero demand; too large is an error.
    const bool underflow = text.find("e-") != std::string_view::npos || text.find("E-") != std::string_view::npos;
    if (!underflow) throw TrafficCsvError(line, "value", shown(text) + " is too large for a double");
    v = 0.0;
  }
  if (!std::isfinite(v)) throw TrafficCsvError(line, "value", shown(text) + " is not a finite number");
  if (v < 0.0) throw TrafficCsvError(line, "value", shown(text) + " is negative (a demand cannot be)");
  return v;
}

struct Row {
  std::int64_t t = 0;
  std::int64_t seconds = 0;
  std::string_view src, dst;
  double value = 0.0;
};

Row parse_row(std::string_view line_text, std::size_t line) {
  const std::vector<std::string_view> f = split(line_text);
  if (f.size() != kFields)
    throw TrafficCsvError(line, "row", "expected 5 fields (" + std::string(kHeader) + "), got " +
                                           std::to_string(f.size()));
  Row r;
  if (!parse_int(f[0], r.t) || r.t < 0)
    throw TrafficCsvError(line, "t", shown(f[0]) + " is not a non-negative integer");
  if (!parse_timestamp(f[1], r.seconds))
    throw TrafficCsvError(line, "timestamp", shown(f[1]) + " is not a valid YYYY-MM-DDTHH:MM:SS");
  // A spreadsheet may quote ids: "A" is A.
  auto unquote = [](std::string_view id) {
    return id.size() >= 2 && id.front() == '"' && id.back() == '"' ? id.substr(1, id.size() - 2) : id;
  };
  r.src = unquote(f[2]);
  r.dst = unquote(f[3]);
  if (r.src.empty()) throw TrafficCsvError(line, "src", "empty node id");
  if (r.dst.empty()) throw TrafficCsvError(line, "dst", "empty node id");
  r.value = parse_value(f[4], line);
  return r;
}

struct PairState {
  std::size_t index;
  std::size_t last_line;
};

void append(TrafficSeries& s, PairState& state, const Row& r, std::size_t line) {
  if (!s.t.empty()) {
    const std::string where = " of " + s.src + "->" + s.dst + " (line " + std::to_string(state.last_line) + ")";
    if (r.t <= s.t.back())
      throw TrafficCsvError(line, "t", std::to_string(r.t) + " is not after " + std::to_string(s.t.back()) +
                                           ", the previous t" + where);
    if (r.seconds <= s.seconds.back())
      throw TrafficCsvError(line, "timestamp", "not after the previous timestamp" + where);
  }
  s.t.push_back(r.t);
  s.seconds.push_back(r.seconds);
  s.values.push_back(r.value);
  state.last_line = line;
}

}  // namespace

TrafficCsvError::TrafficCsvError(std::size_t line, std::string field, const std::string& problem)
    : std::runtime_error("line " + std::to_string(line) + ", field " + field + ": " + problem),
      line_(line),
      field_(std::move(field)) {}

std::vector<TrafficSeries> read_traffic_csv(std::istream& in) {
  std::string text;
  std::size_t line = 1;
  if (!std::getline(in, text)) throw TrafficCsvError(line, "header", "missing header (empty input)");
  std::string_view header = text;
  if (header.substr(0, 3) == "\xEF\xBB\xBF") header.remove_prefix(3);  // UTF-8 byte order mark
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  if (header != kHeader) throw TrafficCsvError(line, "header", "expected '" + std::string(kHeader) + "', got " + shown(header));

  std::vector<TrafficSeries> series;
  std::map<std::pair<std::string, std::string>, PairState, std::less<>> pairs;
  while (std::getline(in, text)) {
    ++line;
    std::string_view view = text;
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    if (view.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line (e.g. a trailing one)
    const Row r = parse_row(view, line);
    auto key = std::make_pair(std::string(r.src), std::string(r.dst));
    auto it = pairs.find(key);
    if (it == pairs.end()) {
      it = pairs.emplace(std::move(key), PairState{series.size(), line}).first;
      series.push_back(TrafficSeries{std::string(r.src), std::string(r.dst), {}, {}, {}});
    }
    append(series[it->second.index], it->second, r, line);
  }
  if (in.bad()) throw TrafficCsvError(line, "row", "read error");
  return series;
}

std::int64_t typical_step_seconds(const TrafficSeries& s) {
  std::map<std::int64_t, std::size_t> counts;
  for (std::size_t i = 1; i < s.seconds.size(); ++i) {
    const std::int64_t dt = s.t[i] - s.t[i - 1];
    // Per-interval step: a gap of k intervals counts as k steps of (span / k).
    if (dt > 0) ++counts[(s.seconds[i] - s.seconds[i - 1]) / dt];
  }
  std::int64_t best = 0;
  std::size_t best_count = 0;
  for (const auto& [step, count] : counts)
    if (count > best_count) best = step, best_count = count;
  return best;
}

std::size_t samples_per_day(const TrafficSeries& s) {
  const std::int64_t step = typical_step_seconds(s);
  if (step <= 0 || 86400 % step != 0) return 0;
  return static_cast<std::size_t>(86400 / step);
}

std::size_t gaps_in_t(const TrafficSeries& s) {
  std::size_t gaps = 0;
  for (std::size_t i = 1; i < s.t.size(); ++i) gaps += s.t[i] - s.t[i - 1] > 1 ? 1 : 0;
  return gaps;
}

}  // namespace meshgw::routing::predict
