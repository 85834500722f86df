// SPDX-License-Identifier: BSD-3-Clause
#include "tunnel_manager.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace meshgw::agent {

using nlohmann::json;

namespace {

std::vector<std::string> reversed(std::vector<std::string> path) {
  std::reverse(path.begin(), path.end());
  return path;
}

bool contains_any(const std::vector<std::string>& path, const std::set<std::string>& gateways) {
  return std::any_of(path.begin(), path.end(), [&](const std::string& g) { return gateways.contains(g); });
}

std::string tunnel_id(std::uint32_t out_spi) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "t%08x", out_spi);
  return buf;
}

}  // namespace

std::string TunnelManager::key(const std::vector<std::string>& path) {
  std::string k;
  for (const auto& g : path) k += (k.empty() ? "" : ">") + g;
  return k;
}

TunnelManager::TunnelManager(TunnelManagerConfig config, TunnelOps ops)
    : config_(std::move(config)), ops_(std::move(ops)) {
  for (unsigned i = 0; i < std::max(1u, config_.threads); ++i) threads_.emplace_back([this] { run_jobs(); });
}

TunnelManager::~TunnelManager() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::size_t TunnelManager::pending_jobs() const {
  std::lock_guard lock(mutex_);
  return jobs_.size() + running_;
}

void TunnelManager::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    // Until its result is taken, a setup's SPIs are not stale (set_view).
    if (job.kind == Job::Kind::setup) in_flight_paths_.insert(key(job.path));
    for (const std::uint32_t spi : job.spis) releasing_.insert(spi);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void TunnelManager::run_jobs() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    Result result;
    if (job.kind == Job::Kind::release) {
      std::vector<std::uint32_t> failed;
      for (const std::uint32_t spi : job.spis) {
        try {
          ops_.release(spi);
        } catch (const std::exception& e) {
          log("tunnel: releasing SPI " + routing::spi_text(spi) + " failed (retried): " + e.what());
          failed.push_back(spi);
        }
      }
      std::lock_guard lock(mutex_);
      retry_release_.insert(retry_release_.end(), failed.begin(), failed.end());
    } else {
      result.path = job.path;
      result.epoch = job.epoch;
      try {
        auto [forward, reverse] = job.reuse;
        bool fresh = !job.reuse_only;
        if (fresh) {
          try {
            std::tie(forward, reverse) = ops_.allocate(job.path);
          } catch (const std::exception& e) {
            if (job.reuse.first == 0) throw;
            // The controller is away: new keys on the SPIs we hold (their
            // relays are in place), not none at all.
            fresh = false;
            log("tunnel " + key(job.path) + ": no new SPIs (" + e.what() + "), new keys on the same ones");
          }
        }
        try {
          result.keys = std::make_unique<TunnelKeys>(ops_.exchange({forward, reverse, job.path, job.epoch}));
        } catch (...) {
          if (!fresh) throw;  // not ours to give back: a tunnel holds them (or set_view releases them)
          for (const std::uint32_t spi : {forward, reverse}) {
            try {
              ops_.release(spi);
            } catch (const std::exception&) {
              // The controller is away: the next start releases what is left.
            }
          }
          throw;
        }
      } catch (const std::exception& e) {
        result.error = e.what();
      }
    }
    std::lock_guard lock(mutex_);
    --running_;
    if (job.kind == Job::Kind::setup) results_.push_back(std::move(result));
  }
}

void TunnelManager::want(std::vector<TunnelWant> wants, std::uint64_t now_ns) {
  wants_ = std::move(wants);
  (void)now_ns;  // poll() marks what is no longer wanted
}

bool TunnelManager::install(const TunnelKeys& keys, bool own, std::uint64_t now_ns) {
  ReadyTunnel t;
  t.own = own;
  t.epoch = keys.tunnel.epoch;
  t.ready_at_ns = now_ns;
  if (own) {
    t.path = keys.tunnel.path;
    t.out_spi = keys.tunnel.forward_spi;
    t.in_spi = keys.tunnel.reverse_spi;
  } else {
    t.path = reversed(keys.tunnel.path);
    t.out_spi = keys.tunnel.reverse_spi;
    t.in_spi = keys.tunnel.forward_spi;
  }
  t.egress = t.path.back();
  t.id = tunnel_id(t.out_spi);
  if (ops_.resolve)
    if (const auto hop = ops_.resolve(t.path[1])) t.next_hop = *hop;
  // The same SPIs again: one end lost its keys (it restarted) and both
  // agreed new ones. The tunnel stays; its SAs are made anew.
  for (ReadyTunnel& old : tunnels_) {
    if (old.own != own || old.out_spi != t.out_spi || old.in_spi != t.in_spi) continue;
    try {
      for (const auto& [spi, k] : {std::pair{keys.tunnel.forward_spi, &keys.forward},
                                   std::pair{keys.tunnel.reverse_spi, &keys.reverse}}) {
        if (ops_.replace_key) {
          ops_.replace_key(spi, *k);
        } else {
          ops_.forget_key(spi);
          ops_.install_key(spi, *k);
        }
      }
    } catch (const std::exception& e) {
      log("tunnel " + key(t.path) + ": new keys on the same SPIs not installed: " + e.what());
      return false;
    }
    old.epoch = t.epoch;
    old.ready_at_ns = now_ns;
    old.next_hop = t.next_hop;
    ++old.key_generation;
    old.dead = old.rekey_now = old.rekey_for_dead = false;
    log(std::string(own ? "tunnel " : "peer's tunnel ") + key(t.path) + ": new keys on the same SPIs " +
        routing::spi_text(t.out_spi) + "/" + routing::spi_text(t.in_spi) + ", epoch " + std::to_string(t.epoch));
    return true;
  }
  // Settling is for the transits' relays: a direct tunnel has none, and
  // an egress's first tunnel has nothing to wait for.
  t.settled = t.path.size() == 2 ||
              std::none_of(tunnels_.begin(), tunnels_.end(), [&](const ReadyTunnel& o) { return o.egress == t.egress; });
  try {
    ops_.install_key(keys.tunnel.forward_spi, keys.forward);
    ops_.install_key(keys.tunnel.reverse_spi, keys.reverse);
  } catch (const std::exception& e) {
    log("tunnel " + key(t.path) + ": keys not installed: " + e.what());
    ops_.forget_key(keys.tunnel.forward_spi);
    ops_.forget_key(keys.tunnel.reverse_spi);
    return false;
  }
  if (own) {
    for (auto& old : tunnels_) {
      if (old.own && old.path == t.path && old.retiring_since_ns == 0) {
        old.retiring_since_ns = now_ns;
        ++rekeys_;
      }
    }
  }
  log(std::string(own ? "tunnel " : "peer's tunnel ") + key(t.path) + " ready: SPIs out " +
      routing::spi_text(t.out_spi) + " in " + routing::spi_text(t.in_spi) + ", epoch " + std::to_string(t.epoch));
  tunnels_.push_back(std::move(t));
  ++list_changes_;
  return true;
}

void TunnelManager::remove(std::size_t index, bool release) {
  const ReadyTunnel t = tunnels_[index];
  tunnels_.erase(tunnels_.begin() + static_cast<std::ptrdiff_t>(index));
  ++list_changes_;
  ops_.forget_key(t.out_spi);
  ops_.forget_key(t.in_spi);
  if (release && t.own) submit({Job::Kind::release, {}, 0, {t.out_spi, t.in_spi}});
}

void TunnelManager::rekey_moved(bool all) {
  for (auto& t : tunnels_) {
    if (!t.own || t.retiring_since_ns != 0 || t.rekey_now) continue;
    const auto hop = ops_.resolve ? ops_.resolve(t.path[1]) : std::nullopt;
    if (all || (hop && t.next_hop.ip != 0 && !(*hop == t.next_hop))) {
      t.rekey_now = true;
      log("tunnel " + key(t.path) + ": " + (all ? "our NAT mapping moved" : "its next hop moved") + ", rekey");
    }
  }
}

bool TunnelManager::set_dead(const std::string& id, bool dead) {
  for (auto& t : tunnels_) {
    if (t.id != id || !t.own || t.dead == dead) continue;
    t.dead = dead;
    if (!dead && t.rekey_for_dead) {  // it works again: no successor needed after all
      t.rekey_now = t.rekey_for_dead = false;
      log("tunnel " + key(t.path) + ": answering again, rekey called off");
    }
    return true;
  }
  return false;
}

void TunnelManager::answered(const std::string& id) {
  for (auto& t : tunnels_)
    if (t.id == id && t.own) t.answered = true;
}

void TunnelManager::rekey_dead(const std::string& id, const std::string& why) {
  for (auto& t : tunnels_) {
    if (t.id != id || !t.own || !t.dead || t.retiring_since_ns != 0 || t.rekey_now) continue;
    t.rekey_now = t.rekey_for_dead = true;
    log("tunnel " + key(t.path) + ": " + why + ", rekey");
  }
}

void TunnelManager::accepted(const TunnelKeys& keys, std::uint64_t now_ns) {
  if (contains_any(keys.tunnel.path, revoked_)) return;
  install(keys, false, now_ns);
}

bool TunnelManager::set_view(const json& gateways, const json& spis, std::uint64_t now_ns) {
  {
    std::lock_guard lock(mutex_);
    view_gateways_ = gateways;
    view_spis_ = spis;
  }
  cv_.notify_all();
  revoked_.clear();
  std::set<std::string> present;
  for (const auto& [id, g] : gateways.items()) {
    present.insert(id);
    if (g.value("status", "") == "revoked") revoked_.insert(id);
  }
  bool changed = false;
  for (std::size_t i = tunnels_.size(); i-- > 0;) {
    const ReadyTunnel& t = tunnels_[i];
    const bool gone = std::any_of(t.path.begin(), t.path.end(), [&](const std::string& g) {
      return g != config_.self && (!present.contains(g) || revoked_.contains(g));
    });
    // A peer's tunnel its ingress released; or one of ours the controller
    // no longer lists (an end or an operator deleted its SPIs), once the
    // state has had time to name it: set up again, not used on SPIs that
    // may be handed out anew.
    const bool released = !spis.contains(std::to_string(t.own ? t.out_spi : t.in_spi)) &&
                          (!t.own || now_ns - t.ready_at_ns >= config_.forgotten_after_ns);
    // Listed, but for another path: the SPI was released and handed out
    // again before this view heard of the release.
    const auto other_path = [&](std::uint32_t spi, const json& path) {
      const auto it = spis.find(std::to_string(spi));
      return it != spis.end() && it->contains("path") && it->at("path") != path;
    };
    const bool reused = other_path(t.out_spi, json(t.path)) || other_path(t.in_spi, json(reversed(t.path)));
    if (gone || released || reused) {
      log(std::string(t.own ? "tunnel " : "peer's tunnel ") + key(t.path) + " removed: " +
          (gone     ? "a gateway on it was revoked or left the mesh"
           : reused ? "its SPIs now belong to another tunnel"
           : t.own  ? "the controller no longer lists its SPIs"
                    : "released by the peer"));
      remove(i, t.own && gone);
      changed = true;
    }
  }
  // SPIs this gateway asked for that no tunnel of ours holds (an earlier
  // run's, whose keys died with it, or a release that failed): given back.
  // Retried with every view until the controller has forgotten them.
  Job stale{Job::Kind::release, {}, 0, {}};
  std::vector<Job> resume = have_view_ ? std::vector<Job>{} : resumable(spis);
  {
    std::set<std::uint32_t> ours;
    for (const auto& t : tunnels_)
      if (t.own) ours.insert({t.out_spi, t.in_spi});
    for (const Job& j : resume) ours.insert({j.reuse.first, j.reuse.second});
    std::lock_guard lock(mutex_);
    std::set<std::uint32_t> still;
    for (const auto& [k, sp] : spis.items()) {
      const auto n = sp.value("spi", std::uint32_t{0});
      if (releasing_.contains(n)) still.insert(n);
      if (sp.value("requested_by", "") != config_.self || ours.contains(n) || releasing_.contains(n)) continue;
      std::vector<std::string> path;
      for (const auto& g : sp.value("path", json::array())) path.push_back(g.get<std::string>());
      if (!path.empty() && path.front() != config_.self) std::reverse(path.begin(), path.end());  // the reverse SPI
      if (in_flight_paths_.contains(key(path))) continue;
      // At start at once (the earlier run's keys are gone); later only once
      // stale for a while, in case something else of ours still uses it.
      const auto [since, fresh] = stale_since_.emplace(n, now_ns);
      if (have_view_ && now_ns - since->second < config_.stale_release_ns) continue;
      stale.spis.push_back(n);
    }
    releasing_ = std::move(still);  // the ones the controller forgot are done
  }
  for (auto it = stale_since_.begin(); it != stale_since_.end();)
    it = spis.contains(std::to_string(it->first)) ? std::next(it) : stale_since_.erase(it);
  if (!stale.spis.empty()) {
    log("releasing " + std::to_string(stale.spis.size()) + " SPIs of this gateway that no tunnel holds");
    submit(std::move(stale));
  }
  for (Job& j : resume) {
    log("tunnel " + key(j.path) + ": taken up again from an earlier run, new keys on SPIs " +
        routing::spi_text(j.reuse.first) + "/" + routing::spi_text(j.reuse.second));
    paths_[key(j.path)].pending = true;
    submit(std::move(j));
  }
  have_view_ = true;
  return changed;
}

// An earlier run's tunnels in the mesh state: per path, the newest pair of
// our SPIs allocated together (forward from us, reverse to us), whose
// gateways are all present and none revoked.
std::vector<TunnelManager::Job> TunnelManager::resumable(const json& spis) const {
  struct Half {
    std::uint32_t spi = 0;
    std::int64_t at = 0;
  };
  std::map<std::pair<std::vector<std::string>, std::int64_t>, std::pair<Half, Half>> pairs;
  for (const auto& [k, sp] : spis.items()) {
    if (sp.value("requested_by", "") != config_.self) continue;
    std::vector<std::string> path;
    for (const auto& g : sp.value("path", json::array()))
      if (g.is_string()) path.push_back(g.get<std::string>());
    if (path.size() < 2) continue;
    const bool forward = path.front() == config_.self;
    if (!forward) std::reverse(path.begin(), path.end());
    if (path.front() != config_.self || contains_any(path, revoked_)) continue;
    const Half h{sp.value("spi", std::uint32_t{0}), sp.value("allocated_at", std::int64_t{0})};
    auto& slot = pairs[{path, h.at}];
    (forward ? slot.first : slot.second) = h;
  }
  std::map<std::vector<std::string>, Job> newest;
  std::map<std::vector<std::string>, std::int64_t> newest_at;
  for (const auto& [k, pr] : pairs) {
    if (pr.first.spi == 0 || pr.second.spi == 0) continue;
    if (newest_at.contains(k.first) && newest_at[k.first] >= k.second) continue;
    newest_at[k.first] = k.second;
    Job j{Job::Kind::setup, k.first, 0, {}};
    j.reuse = {pr.first.spi, pr.second.spi};
    j.reuse_only = true;
    newest[k.first] = std::move(j);
  }
  std::vector<Job> out;
  for (auto& [p, j] : newest) out.push_back(std::move(j));
  return out;
}

bool TunnelManager::poll(std::uint64_t now_ns, const std::map<std::string, std::uint64_t>& tx_bytes) {
  bool changed = false;
  std::vector<Result> results;
  {
    std::lock_guard lock(mutex_);
    results.swap(results_);
  }
  std::vector<std::uint32_t> retry;
  {
    std::lock_guard lock(mutex_);
    for (const Result& r : results) in_flight_paths_.erase(key(r.path));
    // Failed releases wait 5 s (the controller may be away), then go again.
    if (!retry_release_.empty() && next_release_retry_ns_ == 0) {
      next_release_retry_ns_ = now_ns + 5'000'000'000ull;
    } else if (!retry_release_.empty() && now_ns >= next_release_retry_ns_) {
      retry.swap(retry_release_);
      for (const std::uint32_t spi : retry) releasing_.erase(spi);
      next_release_retry_ns_ = 0;
    }
  }
  if (!retry.empty()) submit({Job::Kind::release, {}, 0, retry});
  for (Result& r : results) {
    PathState& ps = paths_[key(r.path)];
    ps.pending = false;
    if (r.keys && !contains_any(r.path, revoked_) && install(*r.keys, true, now_ns)) {
      ++setups_;
      ps.backoff_ns = 0;
      ps.retry_at_ns = 0;
      changed = true;
    } else if (r.keys && !contains_any(r.path, revoked_)) {
      // Agreed but not installable: given back, retried later like a failure.
      ++failures_;
      submit({Job::Kind::release, {}, 0, {r.keys->tunnel.forward_spi, r.keys->tunnel.reverse_spi}});
      ps.backoff_ns = std::clamp(ps.backoff_ns * 2, config_.retry_min_ns, config_.retry_max_ns);
      ps.retry_at_ns = now_ns + ps.backoff_ns;
    } else if (r.keys) {
      // Revoked while the exchange ran: the keys are never used.
      submit({Job::Kind::release, {}, 0, {r.keys->tunnel.forward_spi, r.keys->tunnel.reverse_spi}});
    } else {
      ++failures_;
      ps.backoff_ns = std::clamp(ps.backoff_ns * 2, config_.retry_min_ns, config_.retry_max_ns);
      ps.retry_at_ns = now_ns + ps.backoff_ns;
      log("tunnel " + key(r.path) + ": setup failed, retry in " + std::to_string(ps.backoff_ns / 1'000'000) +
          " ms: " + r.error);
    }
  }

  std::set<std::string> wanted;
  for (const auto& w : wants_)
    for (const auto& p : w.set_up ? w.paths : std::vector<std::vector<std::string>>{})
      if (!p.empty() && p.front() == config_.self && p.size() >= 2 && !contains_any(p, revoked_)) wanted.insert(key(p));

  // New tunnels and rekeys.
  for (const std::string& k : wanted) {
    PathState& ps = paths_[k];
    if (ps.pending || now_ns < ps.retry_at_ns) continue;
    const auto current = std::find_if(tunnels_.begin(), tunnels_.end(), [&](const ReadyTunnel& t) {
      return t.own && t.retiring_since_ns == 0 && key(t.path) == k;
    });
    const bool due_new = current == tunnels_.end();
    bool due = due_new;
    if (!due) {
      const auto sent = tx_bytes.find(current->id);
      due = current->rekey_now || now_ns - current->ready_at_ns >= config_.rekey_after_ns ||
            (config_.rekey_after_bytes != 0 && sent != tx_bytes.end() && sent->second >= config_.rekey_after_bytes);
      if (due) log("tunnel " + k + ": rekey (epoch " + std::to_string(ps.next_epoch) + ")");
    }
    if (!due) continue;
    std::vector<std::string> path;
    for (std::size_t from = 0, to; from <= k.size(); from = to + 1) {
      to = k.find('>', from);
      if (to == std::string::npos) to = k.size();
      path.push_back(k.substr(from, to - from));
    }
    ps.pending = true;
    Job job{Job::Kind::setup, std::move(path), ps.next_epoch++, {}};
    // A dead tunnel's keys are lost at the other end: if the controller
    // cannot give new SPIs, new keys on these do (make before break is moot).
    if (!due_new && current->rekey_for_dead) job.reuse = {current->out_spi, current->in_spi};
    submit(std::move(job));
  }

  for (auto& t : tunnels_) {
    const std::uint64_t age = now_ns - t.ready_at_ns;
    if (!t.settled && age >= config_.settle_ns &&
        (!config_.settle_needs_probe || !t.own || t.answered || age >= config_.settle_max_ns)) {
      t.settled = true;
      changed = true;  // it may take over now
    }
  }

  // Retirement: drained predecessors and paths that stayed unwanted.
  for (std::size_t i = tunnels_.size(); i-- > 0;) {
    ReadyTunnel& t = tunnels_[i];
    if (!t.own) continue;
    if (wanted.contains(key(t.path))) {
      t.unwanted_since_ns = 0;
    } else if (t.unwanted_since_ns == 0) {
      t.unwanted_since_ns = now_ns;
    }
    const bool drained = t.retiring_since_ns != 0 && now_ns - t.retiring_since_ns >= config_.drain_ns;
    const bool abandoned = t.unwanted_since_ns != 0 && now_ns - t.unwanted_since_ns >= config_.linger_ns;
    if (drained || abandoned) {
      log("tunnel " + key(t.path) + " (" + t.id + ") retired: " + (drained ? "replaced by a rekey" : "no longer planned"));
      remove(i, true);
      changed = true;
    }
  }
  return changed;
}

std::vector<routing::PlanActivePath> TunnelManager::active(
    const std::function<bool(const std::vector<std::string>&)>& usable) const {
  std::vector<routing::PlanActivePath> out;
  auto accepted_to = [&](const std::string& egress) {
    std::vector<const ReadyTunnel*> list;
    for (const auto& t : tunnels_)
      if (!t.own && t.egress == egress) list.push_back(&t);
    std::stable_sort(list.begin(), list.end(),
                     [](const ReadyTunnel* a, const ReadyTunnel* b) { return a->ready_at_ns > b->ready_at_ns; });
    return list;
  };
  std::set<std::string> planned;
  for (const TunnelWant& w : wants_) {
    planned.insert(w.egress);
    std::vector<const ReadyTunnel*> order;
    auto add = [&](const ReadyTunnel& t) {
      if (std::find(order.begin(), order.end(), &t) == order.end()) order.push_back(&t);
    };
    for (const auto& p : w.paths)
      for (const auto& t : tunnels_)
        if (t.own && t.retiring_since_ns == 0 && t.path == p) add(t);
    for (const auto& t : tunnels_)
      if (t.own && t.retiring_since_ns == 0 && t.egress == w.egress) add(t);
    for (const auto& p : w.paths)  // a peer's tunnels on the paths we would pick, in our order
      for (const auto& t : tunnels_)
        if (!t.own && t.path == p) add(t);
    for (const ReadyTunnel* t : accepted_to(w.egress)) add(*t);
    if (order.empty()) continue;
    out.push_back({w.egress, w.traffic_class, pick(order, usable)->id});
  }
  // An egress with no planned path right now (the topology is incomplete,
  // e.g. after a controller restart) keeps its tunnels while they linger;
  // a peer that reached us before we planned a path to it gets its answers
  // back on its own tunnel.
  std::set<std::string> done;
  for (const auto& t : tunnels_) {
    if (!t.own || t.retiring_since_ns != 0 || planned.contains(t.egress) || done.contains(t.egress)) continue;
    done.insert(t.egress);
    const ReadyTunnel* pick = &t;
    for (const auto& u : tunnels_)
      if (u.own && u.retiring_since_ns == 0 && u.egress == t.egress && !u.dead && usable(u.path)) {
        pick = &u;
        break;
      }
    out.push_back({t.egress, "default", pick->id});
  }
  for (const auto& t : tunnels_) {
    if (t.own || planned.contains(t.egress) || done.contains(t.egress)) continue;
    done.insert(t.egress);
    out.push_back({t.egress, "default", pick(accepted_to(t.egress), usable)->id});
  }
  return out;
}

const ReadyTunnel* TunnelManager::pick(const std::vector<const ReadyTunnel*>& order,
                                       const std::function<bool(const std::vector<std::string>&)>& usable) const {
  // In order: a settled usable tunnel, or in its place the predecessor of
  // a successor that has not settled yet (a rekey stays on its path).
  const auto ok = [&](const ReadyTunnel& t) { return !t.dead && usable(t.path); };
  for (const ReadyTunnel* t : order) {
    if (!ok(*t)) continue;
    if (t->settled) return t;
    for (const auto& old : tunnels_)
      if (old.own == t->own && old.path == t->path && old.retiring_since_ns != 0 && !old.dead) return &old;
  }
  for (const ReadyTunnel* t : order)
    if (ok(*t)) return t;
  for (const ReadyTunnel* t : order)
    if (usable(t->path)) return t;
  return order.front();
}

std::string TunnelManager::check(const TunnelRequest& request, const std::string& peer) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.check_wait_ms);
  const std::string f = std::to_string(request.forward_spi), r = std::to_string(request.reverse_spi);
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto g = view_gateways_.find(peer);
    if (g != view_gateways_.end() && g->value("status", "") == "revoked") return peer + " is revoked";
    const auto fs = view_spis_.find(f), rs = view_spis_.find(r);
    if (g != view_gateways_.end() && fs != view_spis_.end() && rs != view_spis_.end()) {
      const json path = request.path, back = reversed(request.path);
      if (fs->value("from", "") != peer || fs->value("to", "") != config_.self || fs->value("path", json()) != path)
        return "SPI " + routing::spi_text(request.forward_spi) + " was allocated for another tunnel";
      if (rs->value("from", "") != config_.self || rs->value("to", "") != peer || rs->value("path", json()) != back)
        return "SPI " + routing::spi_text(request.reverse_spi) + " was allocated for another tunnel";
      return "";
    }
    if (stop_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      // Looked up again: the view may have been replaced while we waited.
      if (view_gateways_.find(peer) == view_gateways_.end()) return peer + " is not in this gateway's mesh state";
      return "SPIs " + routing::spi_text(request.forward_spi) + "/" + routing::spi_text(request.reverse_spi) +
             " are not in this gateway's mesh state";
    }
  }
}

}  // namespace meshgw::agent
