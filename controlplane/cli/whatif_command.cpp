// SPDX-License-Identifier: BSD-3-Clause
#include "whatif_command.hpp"

#include <cmath>
#include <iostream>

#include "rest_support.hpp"

namespace meshgw::cli {

using namespace rest;

std::optional<double> parse_rate_bps(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double scale = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'k': case 'K': scale = 1e3; break;
    case 'M': scale = 1e6; break;
    case 'G': scale = 1e9; break;
    default: break;
  }
  if (scale != 1) digits.pop_back();
  if (digits.empty() || digits.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(digits, &used) * scale;
    if (used != digits.size() || !std::isfinite(v) || v <= 0) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

std::string mbps(double bps) { return fixed(bps / 1e6, 2); }

std::string path_of(const json& p) { return p.is_null() ? "-" : joined(p["nodes"], ">"); }

void print_whatif(const json& j) {
  std::cout << "flows: " << j["flows"].size() << " affected, " << text_of(j["flows_unchanged"]) << " unchanged\n";
  if (!j["flows"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : j["flows"]) {
      const std::string verdict = text_of(f["verdict"]);
      const char* what = verdict == "moves_now" ? "moves now (path broken)"
                         : verdict == "moves_after_hold" ? "moves after the hold time"
                         : verdict == "lost" ? "LOST: no path left"
                         : verdict == "ends" ? "ends (its gateway fails)"
                         : verdict == "placed" ? "new demand"
                         : verdict == "unplaced" ? "NEW DEMAND HAS NO PATH" : "?";
      rows.push_back({text_of(f["from"]) + ">" + text_of(f["to"]), text_of(f["class"]), mbps(f["rate_bps"].get<double>()),
                      what, path_of(f["before"]), path_of(f["after"])});
    }
    print_table({"FLOW", "CLASS", "MBPS", "WHAT", "PATH_NOW", "PATH_THEN"}, rows);
  }
  std::cout << "\nlinks: " << j["links"].size() << " change, " << text_of(j["hot_links"]) << " would run hot (>= "
            << fixed(j["hot_utilisation"].get<double>() * 100, 0) << "%)\n";
  // NOW is the higher of the load measured and its forecast, as the gateways price it.
  if (j.contains("forecast") && j["forecast"].is_object())
    std::cout << "loads: measured, or forecast " << fixed(j["forecast"]["horizon_s"].get<double>(), 0)
              << " s ahead where higher (" << text_of(j["forecast"]["series"]) << " link series)\n";
  if (!j["links"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : j["links"]) {
      const bool failed = l["failed"].get<bool>();
      const bool capacity = l["capacity_bps"].get<double>() > 0;
      rows.push_back({text_of(l["from"]) + ">" + text_of(l["to"]), mbps(l["load_before_bps"].get<double>()),
                      failed ? "-" : mbps(l["load_after_bps"].get<double>()),
                      capacity ? fixed(l["utilisation_before"].get<double>() * 100, 1) : "?",
                      failed ? "-" : capacity ? fixed(l["utilisation_after"].get<double>() * 100, 1) : "?",
                      failed ? "failed" : l["hot_after"].get<bool>() ? "HOT" : ""});
    }
    print_table({"LINK", "MBPS_NOW", "MBPS_THEN", "UTIL_NOW_%", "UTIL_THEN_%", ""}, rows);
  }
}

}  // namespace

int whatif(const std::vector<std::string>& args) {
  const Args a(args, with_connection({"fail-link", "fail-gateway", "add-demand", "hot"}), {});
  json body = json::object();
  if (const auto links = a.opt_str("fail-link")) body["fail_links"] = split_list(*links, ',');
  if (const auto gws = a.opt_str("fail-gateway")) body["fail_gateways"] = split_list(*gws, ',');
  if (const auto demand = a.opt_str("add-demand")) {
    body["add_demand"] = json::array();
    for (const std::string& d : split_list(*demand, ',')) {
      const auto parts = split_list(d, ':');
      if (parts.size() != 3 && parts.size() != 4)
        throw UsageError("option --add-demand: " + d + " is not FROM:TO:RATE[:CLASS]");
      const auto rate = parse_rate_bps(parts[2]);
      if (!rate) throw UsageError("option --add-demand: " + parts[2] + " is not a rate in bits/s (800000, 200k, 5M, 1.5G)");
      json one = {{"from", parts[0]}, {"to", parts[1]}, {"rate_bps", *rate}};
      if (parts.size() == 4) one["class"] = parts[3];
      body["add_demand"].push_back(std::move(one));
    }
  }
  if (body.empty()) throw UsageError("give --fail-link, --fail-gateway or --add-demand");
  if (const auto hot = a.opt_str("hot")) {
    char* end = nullptr;
    const double h = std::strtod(hot->c_str(), &end);
    if (end == hot->c_str() || *end != '\0' || !(h > 0) || h > 10)
      throw UsageError("option --hot: must be a share of capacity in (0, 10], e.g. 0.8");
    body["hot_utilisation"] = h;
  }
  const Connection c = connection(a);
  RestClient client(c.endpoint);
  return send_and_print(client, c, "POST", "/v1/whatif", body.dump(), 200, print_whatif);
}

}  // namespace meshgw::cli
