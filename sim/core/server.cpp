// Server: venue lifecycle, endpoints file, and the control API (GET /venues, /book, /account,
// /orders; POST /price, /fault, /step, /rate).
#include "sim/core/server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>

#include "sim/core/venue.h"

namespace perpgw::sim {
namespace {

uint64_t MixSeed(uint64_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
  return h;
}

void WriteOrder(JsonWriter& w, const SimOrder& o, const VenueModule& m) {
  const SimInstrument* in = o.instrument;
  w.BeginObject()
      .Field("order_id", o.id)
      .Field("venue_order_id", m.VenueOrderId(o.id))
      .Field("client_order_id", o.client_id)
      .Field("account", o.account)
      .Field("symbol", in ? in->symbol() : std::string())
      .Field("side", ToString(o.side))
      .Field("type", o.type == OrderType::kMarket ? "market" : "limit")
      .Field("tif", o.tif == TimeInForce::kGtc        ? "gtc"
                    : o.tif == TimeInForce::kIoc      ? "ioc"
                    : o.tif == TimeInForce::kFok      ? "fok"
                                                      : "post_only")
      .Field("reduce_only", o.reduce_only)
      .Field("price", in ? in->FormatPrice(o.price) : "0")
      .Field("qty", in ? in->FormatQty(o.qty) : "0")
      .Field("filled", in ? in->FormatQty(o.filled) : "0")
      .Field("avg_price", o.AvgPrice().ToNormalizedString())
      .Field("status", ToString(o.status))
      .Field("reason", ToString(o.reason))
      .Field("reject", ToString(o.reject))
      .Field("created", o.created)
      .Field("updated", o.updated)
      .EndObject();
}

void WritePosition(JsonWriter& w, const SimPosition& p) {
  const SimInstrument& in = *p.instrument;
  w.BeginObject()
      .Field("symbol", in.symbol())
      .Field("size", in.FormatQty(p.size))
      .Field("entry_price", p.EntryPrice().ToNormalizedString())
      .Field("mark_price", in.FormatPrice(p.mark_price))
      .Field("unrealized_pnl", FormatMoney(p.unrealized_pnl))
      .Field("realized_pnl", FormatMoney(p.realized_pnl))
      .Field("funding", FormatMoney(p.funding))
      .Field("leverage", p.leverage)
      .Field("maint_margin", FormatMoney(p.maint_margin))
      .EndObject();
}

void WriteBalance(JsonWriter& w, const SimBalance& b) {
  w.BeginObject()
      .Field("asset", b.asset)
      .Field("wallet", FormatMoney(b.wallet))
      .Field("unrealized_pnl", FormatMoney(b.unrealized))
      .Field("equity", FormatMoney(b.equity))
      .Field("initial_margin", FormatMoney(b.initial_margin))
      .Field("maint_margin", FormatMoney(b.maint_margin))
      .Field("available", FormatMoney(b.available))
      .EndObject();
}

std::string ErrorJson(std::string_view msg) {
  JsonWriter w;
  w.BeginObject().Field("error", msg).EndObject();
  return w.Take();
}

}  // namespace

// The control API: synchronous JSON over HTTP, on its own listener.
class Server::Control final : public HttpHandler {
 public:
  explicit Control(Server& s) : s_(s) {}

  void OnHttp(const HttpRequest& req, Respond respond) override {
    HttpResponse r;
    Handle(req, r);
    respond(std::move(r));
  }

 private:
  // Finds the venue/symbol named by the query (GET) or body (POST); fills r on error.
  Venue* FindVenue(const std::string& name, HttpResponse& r) {
    Venue* v = s_.venue(name);
    if (v == nullptr) r.Json(404, ErrorJson("unknown venue '" + name + "'"));
    return v;
  }
  const SimInstrument* FindSymbol(Venue& v, const std::string& sym, HttpResponse& r) {
    const SimInstrument* in = v.market().Find(sym);
    if (in == nullptr) r.Json(404, ErrorJson("unknown symbol '" + sym + "' on " + v.venue()));
    return in;
  }

  void Handle(const HttpRequest& req, HttpResponse& r) {
    const bool get = req.method == "GET";
    const bool post = req.method == "POST";
    if (get && req.path == "/venues") return Venues(r);
    if (get && req.path == "/endpoints") return r.Json(200, s_.EndpointsJson());
    if (get && req.path == "/book") return Book(req, r);
    if (get && req.path == "/account") return Account(req, r);
    if (get && req.path == "/orders") return Orders(req, r);
    if (post) {
      auto body = ParseJsonObject(req.body.empty() ? "{}" : req.body);
      if (!body.ok()) return r.Json(400, ErrorJson(std::string(body.status().message())));
      auto field = [&](const char* k) {
        auto it = body->find(k);
        return it == body->end() ? std::string() : it->second;
      };
      Venue* v = FindVenue(field("venue"), r);
      if (v == nullptr) return;
      if (req.path == "/price") return Price(*v, field("symbol"), field("mid"), r);
      if (req.path == "/fault") {
        FaultRequest f;
        f.kind = field("kind");
        f.params = std::move(*body);
        FaultResult fr = v->ApplyFault(f);
        if (!fr.error.empty()) return r.Json(400, ErrorJson(fr.error));
        spdlog::info("{}: fault {} applied (affected {})", v->venue(), f.kind, fr.affected);
        JsonWriter w;
        w.BeginObject().Field("ok", true).Field("kind", f.kind).Field("affected", fr.affected).EndObject();
        return r.Json(200, w.Take());
      }
      if (req.path == "/step") return Step(*v, field("symbol"), field("count"), r);
      if (req.path == "/rate") {
        char* end = nullptr;
        std::string text = field("rate");
        double rate = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || rate < 0) return r.Json(400, ErrorJson("bad rate"));
        v->set_rate(rate);
        return r.Json(200, R"({"ok":true})");
      }
    }
    r.Json(404, ErrorJson("no such control endpoint: " + req.method + " " + req.path));
  }

  void Venues(HttpResponse& r) {
    JsonWriter w;
    w.BeginObject().Key("venues").BeginArray();
    for (const auto& v : s_.venues()) {
      w.BeginObject()
          .Field("name", v->venue())
          .Field("rest_url", v->endpoints().rest_url)
          .Field("ws_url", v->endpoints().ws_url)
          .Field("ws_connections", static_cast<uint64_t>(v->connections().size()))
          .Key("rate").Raw(std::to_string(v->rate()))
          .Field("updates_published", v->market().updates_published())
          .Key("symbols").BeginArray();
      for (const auto& in : v->market().instruments()) w.String(in.symbol());
      w.EndArray().Key("accounts").BeginArray();
      for (const auto& a : v->accounts()) w.String(a.id);
      w.EndArray().Key("requests").BeginObject();
      for (const auto& [what, n] : v->requests()) w.Field(what, n);
      w.EndObject().EndObject();
    }
    w.EndArray().EndObject();
    r.Json(200, w.Take());
  }

  void Book(const HttpRequest& req, HttpResponse& r) {
    Venue* v = FindVenue(req.Query("venue"), r);
    if (v == nullptr) return;
    const SimInstrument* in = FindSymbol(*v, req.Query("symbol"), r);
    if (in == nullptr) return;
    size_t depth = 0;
    if (req.HasQuery("depth")) depth = static_cast<size_t>(std::strtoull(req.Query("depth").c_str(), nullptr, 10));
    const Market& m = v->market();
    const OrderBook& b = m.book(in->index);
    JsonWriter w;
    w.BeginObject()
        .Field("venue", v->venue())
        .Field("symbol", in->symbol())
        .Field("update_id", m.update_id(in->index))
        .Field("mid", in->FormatPrice(m.mid(in->index)))
        .Field("funding_rate", FormatRate(m.funding_rate(in->index)))
        .Field("next_funding_time", v->NextFundingTime(in->index));
    for (auto side : {BookSide::kBid, BookSide::kAsk}) {
      w.Key(side == BookSide::kBid ? "bids" : "asks").BeginArray();
      auto levels = side == BookSide::kBid ? b.Bids(depth) : b.Asks(depth);
      for (const auto& l : levels) {
        w.BeginArray().String(in->FormatPrice(l.price)).String(in->FormatQty(l.size)).EndArray();
      }
      w.EndArray();
    }
    w.EndObject();
    r.Json(200, w.Take());
  }

  void Account(const HttpRequest& req, HttpResponse& r) {
    Venue* v = FindVenue(req.Query("venue"), r);
    if (v == nullptr) return;
    std::string id = req.Query("account");
    const Engine& e = v->engine();
    if (e.account(id) == nullptr) return r.Json(404, ErrorJson("unknown account '" + id + "'"));
    JsonWriter w;
    w.BeginObject().Field("venue", v->venue()).Field("account", id).Key("balance");
    WriteBalance(w, e.Balance(id));
    w.Key("positions").BeginArray();
    for (const auto& p : e.Positions(id)) WritePosition(w, p);
    w.EndArray().Key("open_orders").BeginArray();
    for (const auto* o : e.OpenOrders(id)) WriteOrder(w, *o, v->module());
    w.EndArray().EndObject();
    r.Json(200, w.Take());
  }

  void Orders(const HttpRequest& req, HttpResponse& r) {
    Venue* v = FindVenue(req.Query("venue"), r);
    if (v == nullptr) return;
    std::string id = req.Query("account");
    const Engine& e = v->engine();
    if (e.account(id) == nullptr) return r.Json(404, ErrorJson("unknown account '" + id + "'"));
    JsonWriter w;
    w.BeginObject().Field("venue", v->venue()).Field("account", id).Key("orders").BeginArray();
    for (const auto* o : e.Orders(id)) WriteOrder(w, *o, v->module());
    w.EndArray().Key("fills").BeginArray();
    for (const auto& f : e.Fills(id)) {
      w.BeginObject()
          .Field("trade_id", f.trade_id)
          .Field("order_id", f.order_id)
          .Field("symbol", f.instrument->symbol())
          .Field("side", ToString(f.side))
          .Field("price", f.instrument->FormatPrice(f.price))
          .Field("qty", f.instrument->FormatQty(f.qty))
          .Field("fee", FormatMoney(f.fee))
          .Field("maker", f.maker)
          .Field("liquidation", f.liquidation)
          .EndObject();
    }
    w.EndArray().EndObject();
    r.Json(200, w.Take());
  }

  void Price(Venue& v, const std::string& sym, const std::string& mid, HttpResponse& r) {
    const SimInstrument* in = FindSymbol(v, sym, r);
    if (in == nullptr) return;
    auto d = Decimal::Parse(mid);
    if (!d.ok() || !d->IsPositive()) return r.Json(400, ErrorJson("mid must be a positive decimal"));
    auto scaled = d->ToScaled(in->price_scale, Rounding::kHalfEven);
    if (!scaled.ok()) return r.Json(400, ErrorJson("mid out of range"));
    v.market().SetMid(in->index, *scaled);
    JsonWriter w;
    w.BeginObject()
        .Field("ok", true)
        .Field("mid", in->FormatPrice(v.market().mid(in->index)))
        .Field("update_id", v.market().update_id(in->index))
        .EndObject();
    r.Json(200, w.Take());
  }

  void Step(Venue& v, const std::string& sym, const std::string& count_text, HttpResponse& r) {
    size_t count = count_text.empty() ? 1 : std::strtoull(count_text.c_str(), nullptr, 10);
    if (count == 0 || count > 10'000'000) return r.Json(400, ErrorJson("count must be in [1, 1e7]"));
    if (sym.empty()) {
      v.market().Step(count);
    } else {
      const SimInstrument* in = FindSymbol(v, sym, r);
      if (in == nullptr) return;
      for (size_t k = 0; k < count; ++k) v.market().StepSymbol(in->index);
    }
    JsonWriter w;
    w.BeginObject().Field("ok", true).Field("updates_published", v.market().updates_published()).EndObject();
    r.Json(200, w.Take());
  }

  Server& s_;
};

Server::Server(SimConfig config, const Clock* clock)
    : config_(std::move(config)), clock_(clock ? *clock : SystemClock::Instance()) {}

Server::~Server() {
  for (auto& v : venues_) v->Shutdown();
  if (control_listener_) control_listener_->Close();
}

absl::Status Server::AddVenue(std::unique_ptr<VenueModule> module, const VenueConfig& vc) {
  if (started_) return absl::FailedPreconditionError("AddVenue after Start");
  std::string name = module->name();
  if (venue(name) != nullptr) return absl::AlreadyExistsError("venue " + name + " added twice");
  std::vector<InstrumentSpec> specs =
      vc.instruments.empty() ? module->DefaultInstruments() : vc.instruments;
  if (specs.empty()) return absl::InvalidArgumentError("venue " + name + ": no instruments");
  std::vector<SimInstrument> instruments;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto in = ResolveInstrument(specs[i], i);
    if (!in.ok()) return absl::InvalidArgumentError("venue " + name + ": " + std::string(in.status().message()));
    for (const auto& other : instruments) {
      if (other.symbol() == in->symbol()) {
        return absl::InvalidArgumentError("venue " + name + ": duplicate symbol " + in->symbol());
      }
    }
    instruments.push_back(std::move(*in));
  }
  std::vector<AccountSpec> accounts = vc.accounts.empty() ? module->DefaultAccounts() : vc.accounts;
  auto v = std::make_unique<Venue>(std::move(module), std::move(instruments), std::move(accounts),
                                   config_, vc, MixSeed(config_.seed, name), loop_, clock_);
  if (auto st = v->Init(); !st.ok()) return st;
  venues_.push_back(std::move(v));
  return absl::OkStatus();
}

absl::Status Server::Start() {
  if (started_) return absl::FailedPreconditionError("Start called twice");
  for (auto& v : venues_) {
    if (auto st = v->Listen(config_.bind, config_.ws_queue_limit); !st.ok()) return st;
  }
  control_ = std::make_unique<Control>(*this);
  ListenerOptions o;
  o.host = config_.bind;
  o.port = config_.control_port;
  auto l = StartListener(loop_, o, control_.get());
  if (!l.ok()) return absl::UnavailableError("control API: " + std::string(l.status().message()));
  control_listener_ = std::move(*l);
  for (auto& v : venues_) {
    v->StartTimers(config_.funding_timer);
    spdlog::info("venue {}: {} ({} symbols, {} updates/s)", v->venue(), v->endpoints().rest_url,
                 v->market().size(), v->rate());
  }
  spdlog::info("control API: {}", control_url());
  started_ = true;
  if (!config_.endpoints_out.empty()) {
    if (auto st = WriteFileAtomically(config_.endpoints_out, EndpointsJson()); !st.ok()) return st;
    spdlog::info("endpoints written to {}", config_.endpoints_out);
  }
  return absl::OkStatus();
}

void Server::Run() { loop_.Run(); }

void Server::Stop() {
  loop_.Post([this] {
    for (auto& v : venues_) v->Shutdown();
    if (control_listener_) control_listener_->Close();
    loop_.Stop();
  });
}

void Server::Sync(const std::function<void()>& fn) {
  std::promise<void> done;
  loop_.Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

int Server::control_port() const { return control_listener_ ? control_listener_->port() : 0; }
std::string Server::control_url() const {
  return "http://" + config_.bind + ":" + std::to_string(control_port());
}

Venue* Server::venue(std::string_view name) {
  for (auto& v : venues_) {
    if (v->venue() == name) return v.get();
  }
  return nullptr;
}

std::string Server::EndpointsJson() const {
  JsonWriter w;
  w.BeginObject().Field("control_url", control_url()).Field("pid", static_cast<int64_t>(getpid()));
  w.Key("venues").BeginObject();
  for (const auto& v : venues_) {
    const VenueEndpoints& e = v->endpoints();
    w.Key(v->venue()).BeginObject().Field("rest_url", e.rest_url).Field("ws_url", e.ws_url);
    w.Key("urls").BeginObject();
    for (const auto& [k, u] : e.urls) w.Field(k, u);
    w.EndObject().Key("extra").BeginObject();
    for (const auto& [k, x] : e.extra) w.Field(k, x);
    w.EndObject().Key("symbols").BeginArray();
    for (const auto& in : v->market().instruments()) w.String(in.symbol());
    w.EndArray().Key("accounts").BeginArray();
    for (const auto& a : v->accounts()) {
      w.BeginObject().Field("id", a.id).Field("asset", a.asset).Key("credentials").BeginObject();
      for (const auto& [k, c] : a.credentials) w.Field(k, c);
      w.EndObject().EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndObject().EndObject();
  return w.Take();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError("cannot write " + tmp);
    out << content << '\n';
    out.flush();
    if (!out) return absl::UnavailableError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError("cannot rename " + tmp + " to " + path);
  }
  return absl::OkStatus();
}

}  // namespace perpgw::sim
