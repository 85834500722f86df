// SPDX-License-Identifier: BSD-3-Clause
// Reader for the traffic-matrix CSV interchange format of the shared data
// (../shared/data/README.md): a header line "t,timestamp,src,dst,value",
// then one row per interval and ordered pair:
//   t          interval index, integer >= 0, increasing within a pair (gaps
//              in time show as jumps in t)
//   timestamp  YYYY-MM-DDTHH:MM:SS, start of the interval
//   src, dst   node ids, non-empty
//   value      demand, finite and >= 0
// Rows of different pairs may interleave. Every malformed line throws a
// TrafficCsvError naming the line number and the field; nothing is guessed.
// Control path (meshctl, tests, benchmarks); never the agent's hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

namespace meshgw::routing::predict {

class TrafficCsvError : public std::runtime_error {
 public:
  TrafficCsvError(std::size_t line, std::string field, const std::string& problem);
  std::size_t line() const noexcept { return line_; }  // 1-based
  const std::string& field() const noexcept { return field_; }  // "t", ..., "header", "row"

 private:
  std::size_t line_;
  std::string field_;
};

struct TrafficSeries {
  std::string src;
  std::string dst;
  std::vector<std::int64_t> t;
  std::vector<std::int64_t> seconds;  // timestamp as seconds since 1970-01-01 (zone as in the file)
  std::vector<double> values;
};

// Series per (src, dst) in order of first appearance, rows ordered by t.
// Throws TrafficCsvError on the first bad line (or a missing header).
std::vector<TrafficSeries> read_traffic_csv(std::istream& in);

// Typical spacing of a series in seconds: the most frequent timestamp step
// (0 with fewer than two rows).
std::int64_t typical_step_seconds(const TrafficSeries& series);

// Samples per day at the typical step (e.g. 288 for 5 minutes), 0 if the
// step does not divide a day.
std::size_t samples_per_day(const TrafficSeries& series);

// Jumps in t larger than 1 (missing intervals). Forecasters treat the rows
// as consecutive samples, so a seasonal lag across a gap is approximate.
std::size_t gaps_in_t(const TrafficSeries& series);

}  // namespace meshgw::routing::predict
