// SPDX-License-Identifier: BSD-3-Clause
#include "forecast_command.hpp"

#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.hpp"
#include "routing/predict/auto_forecaster.hpp"
#include "routing/predict/forecast_method.hpp"
#include "routing/predict/rolling_evaluation.hpp"
#include "routing/predict/traffic_csv.hpp"

namespace meshgw::cli {

namespace {

namespace predict = meshgw::routing::predict;
using nlohmann::json;

const char* kForecastUsage = R"(usage: meshctl forecast --csv FILE --src A --dst B --horizon H [options]

Backtests the demand forecasters on the series of pair A -> B in FILE (CSV
t,timestamp,src,dst,value): each method is fitted on the first part of the
series, then run online over the rest, forecasting 1..H steps ahead at every
point from earlier samples only. Prints MAE and sMAPE per method and horizon,
the method auto picked, and the next H values after the end of the series.
Rows are taken in order. Where t jumps (intervals never measured), the
forecasters by default restart their level at the next row and move their
seasonal phase on by the missing intervals; forecasts made before a gap are
still scored against the rows after it.

The ensemble is the mean of the Holt-Winters and ARIMA forecasts; auto picks
one of the methods per series by a backtest on the training part.

options:
  --horizon H          steps ahead, 1..10000
  --method M           auto (default), persistence, seasonal-naive, holt-winters,
                       arima or ensemble: the method whose next-H forecast is printed
  --season N           samples per season (default: one day at the file's step;
                       0 = no season)
  --test-fraction F    the last F of the series is the test part (default 0.2)
  --gaps MODE          restart (default) or ignore: what the forecasters do where
                       t jumps (ignore: the rows are consecutive samples)
  -o, --output FORMAT  table (default) or json
)";

const std::set<std::string> kValued = {"csv",    "src",           "dst",    "horizon", "method",
                                       "season", "test-fraction", "output", "gaps"};

// A file that exists but cannot be used: exit status 1.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string csv, src, dst;
  int horizon = 1;
  predict::Method method = predict::Method::automatic;
  std::optional<std::size_t> season;
  double test_fraction = 0.2;
  bool restart_at_gaps = true;
  bool json = false;
};

double parse_fraction(const std::string& text) {
  double v = 0.0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !(v > 0.0 && v < 1.0))
    throw UsageError("option --test-fraction: '" + text + "' is not a number strictly between 0 and 1");
  return v;
}

Options parse_options(std::vector<std::string> argv) {
  for (std::string& a : argv)  // the short spelling of --output
    if (a == "-o") a = "--output";
  const Args a(argv, kValued, {});
  Options o;
  o.csv = a.str("csv");
  o.src = a.str("src");
  o.dst = a.str("dst");
  o.horizon = static_cast<int>(a.uint("horizon", 1, 10000));
  if (const auto m = a.opt_str("method")) {
    const auto method = predict::method_from_string(*m);
    if (!method)
      throw UsageError("option --method: '" + *m +
                       "' is not auto, persistence, seasonal-naive, holt-winters, arima or ensemble");
    o.method = *method;
  }
  if (a.has("season")) o.season = static_cast<std::size_t>(a.uint("season", 0, 1'000'000));
  if (const auto f = a.opt_str("test-fraction")) o.test_fraction = parse_fraction(*f);
  const std::string output = a.opt_str("output").value_or("table");
  if (output != "table" && output != "json") throw UsageError("option --output: '" + output + "' is not table or json");
  o.json = output == "json";
  const std::string gaps = a.opt_str("gaps").value_or("restart");
  if (gaps != "restart" && gaps != "ignore") throw UsageError("option --gaps: '" + gaps + "' is not restart or ignore");
  o.restart_at_gaps = gaps == "restart";
  if (o.method == predict::Method::seasonal_naive && o.season == std::optional<std::size_t>(0))
    throw UsageError("--method seasonal-naive needs --season >= 1");
  return o;
}

predict::TrafficSeries load_pair(const Options& o) {
  std::ifstream in(o.csv, std::ios::binary);
  if (!in) throw DataError("cannot open " + o.csv);
  std::vector<predict::TrafficSeries> all;
  try {
    all = predict::read_traffic_csv(in);
  } catch (const predict::TrafficCsvError& e) {
    throw DataError(o.csv + ": " + e.what());
  }
  for (auto& s : all)
    if (s.src == o.src && s.dst == o.dst) return std::move(s);
  std::string known;
  for (std::size_t i = 0; i < all.size() && i < 5; ++i) known += (i ? ", " : "") + all[i].src + "->" + all[i].dst;
  throw DataError("no rows for pair " + o.src + "->" + o.dst + " in " + o.csv +
                  (all.empty() ? " (the file has no rows)" : " (pairs include " + known + ")"));
}

struct MethodRun {
  predict::Method method;
  std::string model;  // describe() after fitting on the training part
  double cpu_seconds = 0.0;
  std::vector<predict::HorizonErrors> errors;
  std::unique_ptr<predict::Forecaster> forecaster;  // has seen the whole series
};

double cpu_seconds_now() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// The training history as the forecasters should see it, with --gaps
// restart: a short hole in t (up to half a season, at least one sample) is
// filled by linear interpolation so seasonal phases stay aligned; after a
// longer hole only the rows after the last one are used, if they are enough
// (two seasons, or 40 samples without a season), since a model fitted
// across it would learn a jump that is not in the data.
std::vector<double> training_history(const predict::TrafficSeries& s, std::size_t train, std::size_t season,
                                     bool restart_at_gaps) {
  std::vector<double> values(s.values.begin(), s.values.begin() + static_cast<std::ptrdiff_t>(train));
  if (!restart_at_gaps || train < 2) return values;
  const std::int64_t short_gap = std::max<std::int64_t>(1, static_cast<std::int64_t>(season / 2));
  const std::size_t enough = season > 0 ? 2 * season : 40;
  std::size_t from = 0;
  for (std::size_t i = 1; i < train; ++i)
    if (s.t[i] - s.t[i - 1] - 1 > short_gap && train - i >= enough) from = i;
  std::vector<double> filled{s.values[from]};
  for (std::size_t i = from + 1; i < train; ++i) {
    const std::int64_t missing = s.t[i] - s.t[i - 1] - 1;
    if (missing > 0 && missing <= short_gap) {
      for (std::int64_t k = 1; k <= missing; ++k) {
        const double w = static_cast<double>(k) / static_cast<double>(missing + 1);
        filled.push_back((1 - w) * s.values[i - 1] + w * s.values[i]);
      }
    }
    filled.push_back(s.values[i]);
  }
  return filled;
}

MethodRun run_method(predict::Method method, const predict::ForecasterConfig& config,
                     const predict::TrafficSeries& series, std::size_t train, const Options& o) {
  const std::span<const double> values = series.values;
  const std::span<const std::int64_t> time_index =
      o.restart_at_gaps ? std::span<const std::int64_t>(series.t) : std::span<const std::int64_t>();
  MethodRun run{method, "", 0.0, {}, predict::make_forecaster(method, config)};
  const double start = cpu_seconds_now();
  run.forecaster->fit(training_history(series, train, config.season, o.restart_at_gaps));
  run.model = run.forecaster->describe();
  run.errors = predict::evaluate_rolling(*run.forecaster, values, train, o.horizon, time_index);
  run.cpu_seconds = cpu_seconds_now() - start;
  return run;
}

struct Report {
  Options options;
  predict::TrafficSeries series;
  std::size_t season = 0;
  std::size_t train = 0;
  std::vector<MethodRun> runs;
  const MethodRun* selected = nullptr;  // --method
  const predict::AutoForecaster* automatic = nullptr;
};

// A horizon with no scored forecast has no error: null, not 0.
json errors_json(const std::vector<predict::HorizonErrors>& errors) {
  json out = json::array();
  for (const auto& e : errors) {
    const bool scored = e.forecasts > 0;
    out.push_back({{"horizon_steps", e.horizon}, {"forecasts", e.forecasts},
                   {"mae", scored ? json(e.mae) : json(nullptr)},
                   {"smape_pct", scored ? json(e.smape_pct) : json(nullptr)}});
  }
  return out;
}

json auto_json(const predict::AutoForecaster& a) {
  json backtest = json::array();
  for (const auto& c : a.backtest())
    if (c.evaluated)
      backtest.push_back({{"method", predict::to_string(c.method)},
                          {"mae_one_step", c.mae_one_step * a.data_scale()},  // scores are kept scaled
                          {"mae_multi_step", c.mae_multi_step * a.data_scale()},
                          {"score_vs_persistence", c.score}});
  return {{"chosen", predict::to_string(a.chosen())}, {"model", a.chosen_forecaster().describe()}, {"backtest", backtest}};
}

// Demand is never negative (the reader refuses negative values), so neither
// is a forecast of it.
std::vector<double> next_values(const MethodRun& run, int horizon) {
  std::vector<double> out(static_cast<std::size_t>(horizon));
  run.forecaster->forecast_path(out);
  for (double& x : out) x = std::max(0.0, x);
  return out;
}

void print_json(const Report& r) {
  const auto& v = r.series.values;
  json methods = json::array();
  for (const MethodRun& run : r.runs)
    methods.push_back({{"method", predict::to_string(run.method)}, {"model", run.model},
                       {"cpu_seconds", run.cpu_seconds}, {"per_horizon", errors_json(run.errors)}});
  json out = {{"csv", r.options.csv}, {"src", r.series.src}, {"dst", r.series.dst},
              {"samples", v.size()}, {"train_samples", r.train}, {"test_samples", v.size() - r.train},
              {"gaps_in_t", predict::gaps_in_t(r.series)}, {"step_seconds", predict::typical_step_seconds(r.series)},
              {"season_samples", r.season}, {"horizon_steps", r.options.horizon}, {"methods", methods},
              {"auto", auto_json(*r.automatic)},
              {"forecast", {{"method", predict::to_string(r.selected->method)},
                            {"model", r.selected->forecaster->describe()},
                            {"values", next_values(*r.selected, r.options.horizon)}}},
              {"gaps", r.options.restart_at_gaps ? "restart" : "ignore"}};
  // Ids come from the CSV as bytes; invalid UTF-8 is replaced, not fatal.
  std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

void print_table(const Report& r) {
  const auto& v = r.series.values;
  std::cout << "pair " << r.series.src << " -> " << r.series.dst << ": " << v.size() << " samples ("
            << predict::gaps_in_t(r.series) << " gaps in t), train " << r.train << ", test " << v.size() - r.train
            << ", season " << r.season << " samples, horizon " << r.options.horizon << "\n\n";
  std::cout << std::left << std::setw(16) << "method" << std::right << std::setw(6) << "h" << std::setw(14) << "MAE"
            << std::setw(10) << "sMAPE%" << std::setw(10) << "cpu_s" << "\n";
  std::cout << std::fixed;
  for (const MethodRun& run : r.runs)
    for (const auto& e : run.errors)
      std::cout << std::left << std::setw(16) << predict::to_string(run.method) << std::right << std::setw(6)
                << e.horizon << std::setw(14) << std::setprecision(4) << e.mae << std::setw(10) << std::setprecision(2)
                << e.smape_pct << std::setw(10) << std::setprecision(4) << run.cpu_seconds << "\n";
  std::cout << "\nauto picked " << predict::to_string(r.automatic->chosen()) << ": "
            << r.automatic->chosen_forecaster().describe() << "\n";
  std::cout << "next " << r.options.horizon << " values (" << predict::to_string(r.selected->method)
            << "):" << std::setprecision(4);
  for (const double x : next_values(*r.selected, r.options.horizon)) std::cout << " " << x;
  std::cout << "\n";
}

int run(const Options& o) {
  Report r{o, load_pair(o)};
  const auto& values = r.series.values;
  r.season = o.season.value_or(predict::samples_per_day(r.series));
  const auto test = static_cast<std::size_t>(std::lround(o.test_fraction * static_cast<double>(values.size())));
  r.train = values.size() - std::min(test, values.size());
  if (test < 1 || r.train < 2)
    throw DataError("pair " + o.src + "->" + o.dst + " has " + std::to_string(values.size()) +
                    " samples: too few to split into training and test parts");
  // Auto scores candidates at h = 1 and h = H over the last 20% of the training
  // part; H beyond a quarter of that leaves too few origins to tell methods
  // apart, so the selection horizon is capped there (reports still cover 1..H).
  const auto validation = static_cast<int>(std::max<std::size_t>(
      predict::AutoForecaster::kMinValidation,
      static_cast<std::size_t>(predict::AutoForecaster::kValidationFraction * static_cast<double>(r.train))));
  const predict::ForecasterConfig config{r.season, std::clamp(o.horizon, 1, std::max(1, validation / 4))};
  std::vector<predict::Method> methods(predict::kSingleMethods.begin(), predict::kSingleMethods.end());
  methods.push_back(predict::Method::automatic);
  for (const predict::Method m : methods) {
    if (m == predict::Method::seasonal_naive && r.season == 0) continue;
    r.runs.push_back(run_method(m, config, r.series, r.train, o));
  }
  for (const MethodRun& run : r.runs) {
    if (run.method == o.method) r.selected = &run;
    if (run.method == predict::Method::automatic)
      r.automatic = dynamic_cast<const predict::AutoForecaster*>(run.forecaster.get());
  }
  if (r.selected == nullptr) throw UsageError("--method seasonal-naive needs a season (--season N)");
  o.json ? print_json(r) : print_table(r);
  return 0;
}

}  // namespace

int forecast_command(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::cout << kForecastUsage;
    return 0;
  }
  try {
    if (args.empty()) throw UsageError("missing options");
    return run(parse_options(args));
  } catch (const UsageError& e) {
    std::cerr << "meshctl forecast: " << e.what() << "\n(see meshctl forecast --help)\n";
    return 2;
  } catch (const DataError& e) {
    std::cerr << "meshctl forecast: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace meshgw::cli
