// SPDX-License-Identifier: BSD-3-Clause
// The traffic CSV reader: series per pair in order of t, and every bad line
// an exception naming its line number and field. Random bytes never crash it.
#include "routing/predict/traffic_csv.hpp"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

namespace meshgw::routing::predict {
namespace {

constexpr const char* kHeader = "t,timestamp,src,dst,value\n";

std::vector<TrafficSeries> read(const std::string& text) {
  std::istringstream in(text);
  return read_traffic_csv(in);
}

// Expects a TrafficCsvError at `line` on `field` whose message contains `words`.
void expect_error(const std::string& text, std::size_t line, const std::string& field, const std::string& words) {
  try {
    read(text);
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const TrafficCsvError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.field(), field) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("line " + std::to_string(line) + ", field " + field), std::string::npos) << what;
    EXPECT_NE(what.find(words), std::string::npos) << what;
  }
}

TEST(TrafficCsv, ReadsInterleavedPairsInOrder) {
  const auto s = read(std::string(kHeader) +
                      "0,2004-03-01T00:00:00,A,B,1.5\n"
                      "0,2004-03-01T00:00:00,B,A,7\n"
                      "1,2004-03-01T00:05:00,A,B,2.5e1\r\n"
                      "3,2004-03-01T00:15:00,A,B,0\n"
                      "1,2004-03-01T00:05:00,B,A,8\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].src, "A");
  EXPECT_EQ(s[0].dst, "B");
  EXPECT_EQ(s[0].values, (std::vector<double>{1.5, 25.0, 0.0}));
  EXPECT_EQ(s[0].t, (std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_EQ(s[0].seconds[1] - s[0].seconds[0], 300);
  EXPECT_EQ(s[1].values, (std::vector<double>{7.0, 8.0}));
  EXPECT_EQ(typical_step_seconds(s[0]), 300);
  EXPECT_EQ(samples_per_day(s[0]), 288u);
  EXPECT_EQ(gaps_in_t(s[0]), 1u);
  EXPECT_EQ(gaps_in_t(s[1]), 0u);
}

TEST(TrafficCsv, BlankLinesQuotedIdsAndUnderflowAreTolerated) {
  const auto s = read(std::string(kHeader) + "0,2004-03-01T00:00:00,\"A\",\"B\",1e-400\n\n"
                      "1,2004-03-01T00:05:00,A,B,2\n  \n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].src, "A");
  EXPECT_EQ(s[0].values, (std::vector<double>{0.0, 2.0}));
}

TEST(TrafficCsv, HeaderOnlyOrByteOrderMarkIsFine) {
  EXPECT_TRUE(read(kHeader).empty());
  EXPECT_EQ(read("\xEF\xBB\xBFt,timestamp,src,dst,value\r\n0,2005-01-01T00:30:00,1,5,3\n").size(), 1u);
}

TEST(TrafficCsv, MissingOrWrongHeader) {
  expect_error("", 1, "header", "empty input");
  expect_error("0,2004-03-01T00:00:00,A,B,1.5\n", 1, "header", "expected 't,timestamp,src,dst,value'");
  expect_error("t,timestamp,src,dst\n", 1, "header", "expected");
}

TEST(TrafficCsv, WrongColumnCount) {
  expect_error(std::string(kHeader) + "0,2004-03-01T00:00:00,A,B\n", 2, "row", "expected 5 fields");
  expect_error(std::string(kHeader) + "0,2004-03-01T00:00:00,A,B,1,2\n", 2, "row", "got 6");
}

TEST(TrafficCsv, BadFields) {
  const std::string h = kHeader;
  const std::string ok = "0,2004-03-01T00:00:00,A,B,1\n";
  expect_error(h + ok + "x,2004-03-01T00:05:00,A,B,1\n", 3, "t", "not a non-negative integer");
  expect_error(h + "-1,2004-03-01T00:05:00,A,B,1\n", 2, "t", "not a non-negative integer");
  expect_error(h + "1.5,2004-03-01T00:05:00,A,B,1\n", 2, "t", "not a non-negative integer");
  expect_error(h + "0,2004-02-30T00:00:00,A,B,1\n", 2, "timestamp", "YYYY-MM-DDTHH:MM:SS");
  expect_error(h + "0,2004-03-01 00:00:00,A,B,1\n", 2, "timestamp", "YYYY-MM-DDTHH:MM:SS");
  expect_error(h + "0,2004-03-01T24:00:00,A,B,1\n", 2, "timestamp", "YYYY-MM-DDTHH:MM:SS");
  expect_error(h + "0,2004-03-01T00:00:00,,B,1\n", 2, "src", "empty");
  expect_error(h + "0,2004-03-01T00:00:00,A,,1\n", 2, "dst", "empty");
  expect_error(h + ok + "1,2004-03-01T00:05:00,A,B,abc\n", 3, "value", "'abc' is not a number");
  expect_error(h + "0,2004-03-01T00:00:00,A,B,\n", 2, "value", "not a number");
  expect_error(h + "0,2004-03-01T00:00:00,A,B, 1\n", 2, "value", "not a number");
  expect_error(h + "0,2004-03-01T00:00:00,A,B,1x\n", 2, "value", "not a number");
  expect_error(h + "0,2004-03-01T00:00:00,A,B,-3\n", 2, "value", "negative");
  expect_error(h + "0,2004-03-01T00:00:00,A,B,nan\n", 2, "value", "not a finite number");
  expect_error(h + "0,2004-03-01T00:00:00,A,B,inf\n", 2, "value", "not a finite number");
  expect_error(h + "0,2004-03-01T00:00:00,A,B,1e999\n", 2, "value", "too large for a double");
}

TEST(TrafficCsv, TimeGoingBackwardsWithinAPair) {
  const std::string h = kHeader;
  expect_error(h + "5,2004-03-01T00:25:00,A,B,1\n" + "0,2004-03-01T00:00:00,C,D,1\n" +
                   "4,2004-03-01T00:20:00,A,B,1\n",
               4, "t", "4 is not after 5, the previous t of A->B (line 2)");
  expect_error(h + "5,2004-03-01T00:25:00,A,B,1\n5,2004-03-01T00:25:00,A,B,2\n", 3, "t", "not after");
  expect_error(h + "5,2004-03-01T00:25:00,A,B,1\n6,2004-03-01T00:20:00,A,B,2\n", 3, "timestamp", "not after");
  // Another pair may go back in t: it is its own series.
  EXPECT_EQ(read(h + "5,2004-03-01T00:25:00,A,B,1\n0,2004-03-01T00:00:00,B,A,1\n").size(), 2u);
}

TEST(TrafficCsv, LongFieldsAreShortenedInMessages) {
  try {
    read(std::string(kHeader) + "0,2004-03-01T00:00:00,A,B," + std::string(5000, '7') + "x\n");
    FAIL();
  } catch (const TrafficCsvError& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u);
  }
}

TEST(TrafficCsv, RandomBytesNeverCrash) {
  std::mt19937_64 rng(12);
  const std::string alphabet = "0123456789,.-eT:AB\n\r nanif\xff";
  for (int i = 0; i < 3000; ++i) {
    std::string text = i % 2 ? std::string(kHeader) : std::string();
    const std::size_t n = rng() % 200;
    for (std::size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    try {
      read(text);
    } catch (const TrafficCsvError&) {
    }
  }
}

}  // namespace
}  // namespace meshgw::routing::predict
