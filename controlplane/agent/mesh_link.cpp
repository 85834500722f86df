// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_link.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "controlplane/common/log.hpp"
#include "controlplane/common/rest_client.hpp"
#include "controlplane/common/secret_file.hpp"
#include "crypto/hex.hpp"
#include "crypto/pki.hpp"
#include "routing/topology.hpp"

namespace meshgw::agent {

using nlohmann::json;

struct MeshLink::Identity {
  std::string gateway_id;
  std::string role;
  std::vector<std::uint8_t> beacon_key;
  std::uint16_t beacon_port = 0;
  std::uint16_t key_relay_port = 0;  // 0: the controller runs none (or predates it)
  std::int64_t cert_not_after = 0;
  ~Identity() { OPENSSL_cleanse(beacon_key.data(), beacon_key.size()); }
};

namespace {

std::int64_t unix_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::uint64_t unix_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

void write_public(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error(tmp + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

// The token file's first non-comment line.
std::string read_token(const std::string& path) {
  std::string text = common::read_secret_text(path, 4096);
  std::istringstream in(text);
  std::string line, token;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    token = line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
    break;
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (token.empty()) throw std::runtime_error(path + ": no join token in the file");
  return token;
}

}  // namespace

MeshLink::MeshLink(ControllerSettings settings) : settings_(std::move(settings)) {
  std::filesystem::create_directories(settings_.state_dir);
  ::chmod(settings_.state_dir.c_str(), 0700);
  const std::string id_path = settings_.state_dir + "/identity.json";
  if (std::filesystem::exists(id_path)) {
    std::string text = common::read_secret_text(id_path, 65536);
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      throw std::runtime_error(id_path + ": not an identity file: " + e.what());
    }
    OPENSSL_cleanse(text.data(), text.size());
    auto id = std::make_unique<Identity>();
    id->gateway_id = j.at("gateway_id").get<std::string>();
    id->role = j.at("role").get<std::string>();
    auto key = crypto::from_hex(j.at("beacon_key").get<std::string>());
    if (!key || key->size() != 32) throw std::runtime_error(id_path + ": bad beacon_key");
    id->beacon_key = std::move(*key);
    id->beacon_port = j.at("beacon_port").get<std::uint16_t>();
    id->key_relay_port = j.value("key_relay_port", std::uint16_t{0});
    id->cert_not_after = j.at("cert_not_after").get<std::int64_t>();
    common::read_secret_text(settings_.state_dir + "/gateway.key", 16384);  // present and private
    identity_ = std::move(id);
    status_.gateway_id = identity_->gateway_id;
    status_.role = identity_->role;
    status_.registered = true;
    status_.cert_not_after = identity_->cert_not_after;
  }
  if (auto v = MeshView::load(settings_.state_dir + "/mesh_state.json")) {
    view_ = std::move(*v);
    view_structural_ = true;
    view_changed_ = true;  // the control thread starts from what it had
    status_.epoch = view_.epoch();
    status_.version = view_.version();
  }
}

MeshLink::~MeshLink() { stop(); }

common::RestEndpoint MeshLink::endpoint(bool with_certificate) const {
  common::RestEndpoint ep = common::RestEndpoint::from_url(settings_.url);
  ep.ca_file = settings_.ca_file;
  if (with_certificate) {  // the gateway API: mTLS with this gateway's certificate
    ep.cert_file = settings_.state_dir + "/gateway.pem";
    ep.key_file = settings_.state_dir + "/gateway.key";
  }
  return ep;
}

void MeshLink::save_identity(const Identity& id) const {
  std::string key_hex;
  crypto::append_hex(key_hex, id.beacon_key.data(), id.beacon_key.size());
  std::string text = json{{"gateway_id", id.gateway_id}, {"role", id.role}, {"beacon_key", key_hex},
                          {"beacon_port", id.beacon_port}, {"key_relay_port", id.key_relay_port},
                          {"cert_not_after", id.cert_not_after}}
                         .dump();
  OPENSSL_cleanse(key_hex.data(), key_hex.size());
  try {
    common::write_secret_text(settings_.state_dir + "/identity.json", text + "\n", true);
  } catch (...) {
    OPENSSL_cleanse(text.data(), text.size());
    throw;
  }
  OPENSSL_cleanse(text.data(), text.size());
}

void MeshLink::start() {
  stop_ = false;
  link_thread_ = std::thread([this] { link_loop(); });
  watch_thread_ = std::thread([this] { watch_loop(); });
}

void MeshLink::stop() {
  stop_ = true;
  wake_.notify_all();
  {
    std::lock_guard lock(mutex_);
    if (stream_client_) stream_client_->cancel();
  }
  if (link_thread_.joinable()) link_thread_.join();
  if (watch_thread_.joinable()) watch_thread_.join();
  std::optional<MeshView> to_save;
  {
    std::lock_guard lock(mutex_);
    to_save = view_to_save(0);  // the last measurements, for the next start
  }
  write_view(to_save);
  if (beacon_fd_ >= 0) ::close(beacon_fd_);
  beacon_fd_ = -1;
}

bool MeshLink::wait(unsigned ms, bool beacon_wakes) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_.load() || (beacon_wakes && beacon_now_); });
  if (beacon_wakes) beacon_now_ = false;
  return !stop_;
}

void MeshLink::set_report(json body) {
  std::lock_guard lock(mutex_);
  report_ = std::move(body);
}

void MeshLink::send_report() {
  std::optional<json> body;
  {
    std::lock_guard lock(mutex_);
    body.swap(report_);
  }
  if (!body) return;
  common::RestClient client(endpoint(true));
  const common::RestAnswer r = client.request("POST", "/v1/gw/report", body->dump());
  if (r.status != 200) set_error("telemetry report refused (" + std::to_string(r.status) + "): " + r.body);
}

void MeshLink::beacon_soon() {
  {
    std::lock_guard lock(mutex_);
    beacon_now_ = true;
  }
  wake_.notify_all();
}

std::uint16_t MeshLink::key_relay_port() const {
  std::lock_guard lock(mutex_);
  return identity_ ? identity_->key_relay_port : 0;
}

std::string MeshLink::controller_host() const { return common::RestEndpoint::from_url(settings_.url).host; }

common::RestAnswer MeshLink::call(const std::string& method, const std::string& target, const std::string& body) const {
  {
    std::lock_guard lock(mutex_);
    if (identity_ == nullptr) throw std::runtime_error("not registered with the controller yet");
  }
  common::RestClient client(endpoint(true));
  return client.request(method, target, body);
}

void MeshLink::set_error(const std::string& e) {
  std::lock_guard lock(mutex_);
  if (status_.last_error != e) common::log_warning("controller: " + e);
  status_.last_error = e;
}

void MeshLink::set_beacon_inputs(BeaconInputs inputs) {
  std::lock_guard lock(mutex_);
  inputs_ = std::move(inputs);
}

std::optional<MeshView> MeshLink::take_view(bool* structural) {
  std::lock_guard lock(mutex_);
  if (!view_changed_) return std::nullopt;
  view_changed_ = false;
  const bool whole = view_structural_ || structural == nullptr;
  if (structural) *structural = view_structural_;
  view_structural_ = false;
  // Measurements only: the caller keeps its SPIs and policy (they can be
  // thousands of entries, and measurements come every few seconds).
  return whole ? view_ : view_.measurements_only();
}

MeshLinkStatus MeshLink::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

bool MeshLink::register_gateway() {
  const std::string key_path = settings_.state_dir + "/gateway.key";
  if (!std::filesystem::exists(key_path)) {
    const auto key = crypto::pki::PrivateKey::generate_p256();
    std::string pem = key.pem();
    common::write_secret_text(key_path, pem, false);
    OPENSSL_cleanse(pem.data(), pem.size());
  }
  std::string key_pem = common::read_secret_text(key_path, 16384);
  const auto key = crypto::pki::PrivateKey::from_pem(key_pem);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  common::RestClient client(endpoint(false));
  json body = {{"token", read_token(settings_.join_token_file)}, {"csr", crypto::pki::make_csr(key, "meshgw")}};
  if (!settings_.role.empty()) body["role"] = settings_.role;
  std::string text = body.dump();
  OPENSSL_cleanse(body["token"].get_ref<std::string&>().data(), body["token"].get_ref<std::string&>().size());
  const common::RestAnswer r = client.request("POST", "/v1/register", text);
  OPENSSL_cleanse(text.data(), text.size());
  if (r.status != 201) {
    std::string why = r.body;
    try {
      why = json::parse(r.body).value("error", r.body);
    } catch (const json::exception&) {
    }
    set_error("registration refused (" + std::to_string(r.status) + "): " + why);
    return false;
  }
  const json a = json::parse(r.body);
  auto id = std::make_unique<Identity>();
  id->gateway_id = a.at("gateway_id").get<std::string>();
  id->role = a.at("role").get<std::string>();
  auto bkey = crypto::from_hex(a.at("beacon_key").get<std::string>());
  if (!bkey || bkey->size() != 32) throw std::runtime_error("registration answer: bad beacon_key");
  id->beacon_key = std::move(*bkey);
  id->beacon_port = a.at("beacon_port").get<std::uint16_t>();
  id->key_relay_port = a.value("key_relay_port", std::uint16_t{0});
  id->cert_not_after = a.at("cert_not_after").get<std::int64_t>();
  write_public(settings_.state_dir + "/gateway.pem", a.at("certificate").get<std::string>());
  write_public(settings_.state_dir + "/ca.pem", a.at("ca").get<std::string>());
  save_identity(*id);
  common::log_info("registered with " + settings_.url + " as " + id->gateway_id + " (" + id->role + ")");
  std::lock_guard lock(mutex_);
  status_.gateway_id = id->gateway_id;
  status_.role = id->role;
  status_.registered = true;
  status_.cert_not_after = id->cert_not_after;
  status_.last_error.clear();
  identity_ = std::move(id);
  wake_.notify_all();
  return true;
}

void MeshLink::renew_if_due(std::int64_t now_s) {
  std::int64_t not_after;
  {
    std::lock_guard lock(mutex_);
    not_after = identity_->cert_not_after;
  }
  if (not_after - now_s > static_cast<std::int64_t>(settings_.renew_before_s)) return;
  const common::RestEndpoint ep = endpoint(true);
  common::RestClient client(ep);
  std::string key_pem = common::read_secret_text(ep.key_file, 16384);
  const auto key = crypto::pki::PrivateKey::from_pem(key_pem);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  const common::RestAnswer r = client.request("POST", "/v1/gw/renew", json{{"csr", crypto::pki::make_csr(key, "meshgw")}}.dump());
  if (r.status != 200) {
    set_error("renewal refused (" + std::to_string(r.status) + "): " + r.body);
    return;
  }
  const json a = json::parse(r.body);
  write_public(ep.cert_file, a.at("certificate").get<std::string>());
  std::lock_guard lock(mutex_);
  identity_->cert_not_after = a.at("cert_not_after").get<std::int64_t>();
  identity_->key_relay_port = a.value("key_relay_port", identity_->key_relay_port);  // a controller that gained a relay
  status_.cert_not_after = identity_->cert_not_after;
  save_identity(*identity_);  // the new expiry, for the next start
  common::log_info("certificate renewed, valid until " + std::to_string(identity_->cert_not_after));
}

void MeshLink::send_beacon() {
  api::Beacon b;
  std::vector<std::uint8_t> key;
  std::uint16_t port;
  {
    std::lock_guard lock(mutex_);
    b.gateway_id = identity_->gateway_id;
    const auto role = routing::role_from_string(identity_->role);
    b.role = static_cast<std::uint8_t>(role.value_or(routing::Role::edge));
    b.addresses = inputs_.addresses;
    b.load_permille = inputs_.load_permille;
    b.neighbours = inputs_.neighbours;
    key = identity_->beacon_key;
    port = identity_->beacon_port;
  }
  // Strictly increasing across restarts too: the wall clock in microseconds.
  last_sequence_ = std::max(last_sequence_ + 1, unix_us());
  b.sequence = last_sequence_;
  b.sent_ms = unix_us() / 1000;
  b.declared_bps = settings_.declared_bps;
  b.latitude_e6 = settings_.latitude_e6;
  b.longitude_e6 = settings_.longitude_e6;
  if (b.addresses.size() > api::kBeaconMaxAddresses) b.addresses.resize(api::kBeaconMaxAddresses);
  if (b.neighbours.size() > api::kBeaconMaxNeighbours) b.neighbours.resize(api::kBeaconMaxNeighbours);
  const std::vector<std::uint8_t> datagram = api::encode_beacon(b, key);
  OPENSSL_cleanse(key.data(), key.size());
  if (beacon_fd_ < 0) {
    const common::RestEndpoint ep = common::RestEndpoint::from_url(settings_.url);
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(ep.host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
      set_error("beacons: cannot resolve " + ep.host);
      return;
    }
    beacon_fd_ = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (beacon_fd_ >= 0 && settings_.beacon_bind_ipv4 != 0 && res->ai_family == AF_INET) {
      // Behind a NAT: from the ESP port's address and port, so the mapping
      // the controller sees is the one peers must send ESP to (RFC 3948).
      const int one = 1;
      ::setsockopt(beacon_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_addr.s_addr = htonl(settings_.beacon_bind_ipv4);
      local.sin_port = htons(4500);
      if (::bind(beacon_fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        set_error(std::string("beacons: cannot send from the ESP port (") + std::strerror(errno) +
                  "): the controller learns another NAT mapping");
    }
    if (beacon_fd_ >= 0 && ::connect(beacon_fd_, res->ai_addr, res->ai_addrlen) != 0) {
      ::close(beacon_fd_);
      beacon_fd_ = -1;
    }
    ::freeaddrinfo(res);
    if (beacon_fd_ < 0) {
      set_error("beacons: cannot open a socket to " + ep.host + ":" + std::to_string(port));
      return;
    }
  }
  if (::send(beacon_fd_, datagram.data(), datagram.size(), 0) == static_cast<ssize_t>(datagram.size())) {
    std::lock_guard lock(mutex_);
    ++status_.beacons_sent;
  }
}

void MeshLink::report_sites() {
  const common::RestEndpoint ep = endpoint(true);
  common::RestClient client(ep);
  const common::RestAnswer r = client.request("POST", "/v1/gw/report", json{{"sites", settings_.sites}}.dump());
  if (r.status != 200) {
    set_error("site report refused (" + std::to_string(r.status) + "): " + r.body);
    return;
  }
  sites_reported_ = true;
  std::string list;
  for (const auto& p : settings_.sites) list += (list.empty() ? "" : ", ") + p;
  common::log_info("sites reported to the controller: " + (list.empty() ? std::string("none") : list));
}

void MeshLink::link_loop() {
  unsigned backoff_ms = 500;
  while (!stop_) {
    bool have_identity;
    {
      std::lock_guard lock(mutex_);
      have_identity = identity_ != nullptr;
    }
    try {
      if (!have_identity) {
        if (!register_gateway()) {
          if (!wait(backoff_ms)) return;
          backoff_ms = std::min(30000u, backoff_ms * 2);
        }
        continue;
      }
      renew_if_due(unix_s());
      if (!sites_reported_) report_sites();
      send_beacon();
      send_report();
      std::optional<MeshView> to_save;
      {
        std::lock_guard lock(mutex_);
        if (structural_unsaved_) to_save = view_to_save(kStructuralSaveMs);
      }
      write_view(to_save);
    } catch (const std::exception& e) {
      set_error(e.what());  // the controller is away: retried, forwarding goes on
      if (!wait(backoff_ms)) return;
      backoff_ms = std::min(30000u, backoff_ms * 2);
      continue;
    }
    backoff_ms = 500;
    if (!wait(settings_.beacon_interval_ms, true)) return;
  }
}

std::optional<MeshView> MeshLink::view_to_save(std::uint64_t min_interval_ms) {
  const auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
  if (!view_unsaved_ || (min_interval_ms != 0 && now_ms - view_saved_ms_ < min_interval_ms)) return std::nullopt;
  view_unsaved_ = false;
  structural_unsaved_ = false;
  view_saved_ms_ = now_ms;
  return view_;
}

void MeshLink::write_view(const std::optional<MeshView>& v) const {
  // Outside mutex_: serialising and fsync take milliseconds, and the
  // control thread takes the view under that lock every 10 ms.
  if (v) v->save(settings_.state_dir + "/mesh_state.json");
}

void MeshLink::watch_loop() {
  unsigned backoff_ms = 250;
  while (!stop_) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || identity_ != nullptr; });
      if (stop_) return;
    }
    std::string target;
    {
      std::lock_guard lock(mutex_);
      target = "/v1/gw/watch?epoch=" + view_.epoch() + "&since=" + std::to_string(view_.version());
    }
    try {
      const common::RestEndpoint ep = endpoint(true);
      auto client = std::make_shared<common::RestClient>(ep);
      {
        std::lock_guard lock(mutex_);
        stream_client_ = client;
        if (stop_) return;
      }
      // Heartbeats come every 5 s: 15 s of silence means the controller is gone.
      const int status = client->stream(target, [this](const std::string& line) {
        const json update = json::parse(line);
        std::optional<MeshView> to_save;
        {
          std::lock_guard lock(mutex_);
          status_.following = true;
          if (view_.apply(update)) {
            view_unsaved_ = true;
            structural_unsaved_ = structural_unsaved_ || view_.last_change_structural();
            to_save = view_to_save(view_.last_change_structural() ? kStructuralSaveMs : kMeasurementSaveMs);
            view_changed_ = true;
            view_structural_ = view_structural_ || view_.last_change_structural();
            status_.epoch = view_.epoch();
            status_.version = view_.version();
          }
        }
        write_view(to_save);
        return !stop_.load();
      }, 15);
      std::optional<MeshView> to_save;
      {
        std::lock_guard lock(mutex_);
        stream_client_.reset();
        status_.following = false;
        to_save = view_to_save(0);
      }
      write_view(to_save);
      if (status != 200) set_error("state stream refused with status " + std::to_string(status));
      else backoff_ms = 250;
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      stream_client_.reset();
      status_.following = false;
      if (status_.last_error != e.what()) common::log_warning(std::string("controller: state stream: ") + e.what());
      status_.last_error = e.what();
    }
    {
      std::lock_guard lock(mutex_);
      ++status_.reconnects;
    }
    if (!wait(backoff_ms)) return;
    backoff_ms = std::min(5000u, backoff_ms * 2);
  }
}

}  // namespace meshgw::agent
