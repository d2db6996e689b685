// perpgw-cli: a grpcurl-like client that learns every type from server reflection (it links no
// generated perpgw code), so it works against perpgwd and any other gRPC server.
//   perpgw-cli [flags] ADDR list [SERVICE] | describe [SYMBOL] | call SERVICE/METHOD
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <tuple>
#include <functional>
#include <future>
#include <iostream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "examples/cli/reflection_client.h"

namespace perpgw::cli {
namespace {

namespace pb = google::protobuf;

// Exit codes: 1 is reserved for "the server answered with an error status".
constexpr int kExitOk = 0;
constexpr int kExitRpcError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotFound = 3;  // symbol unknown to the server's reflection, bad response bytes

constexpr const char* kUsage =
    "usage: perpgw-cli [flags] ADDR list [SERVICE]\n"
    "       perpgw-cli [flags] ADDR describe [SYMBOL]\n"
    "       perpgw-cli [flags] ADDR call SERVICE/METHOD   (or SERVICE.METHOD)\n"
    "flags:\n"
    "  -plaintext              no TLS (default: TLS with the system roots)\n"
    "  -cacert FILE            PEM roots to verify the server with (TLS)\n"
    "  -cert FILE -key FILE    client certificate and key (PEM) for mTLS; they go together\n"
    "  -servername NAME        name to verify the server's certificate against (TLS)\n"
    "  -H 'name: value'        request metadata, repeatable (e.g. -H 'authorization: Bearer T')\n"
    "  -d JSON                 request body (default {}); -d @ reads it from stdin\n"
    "  -max-msgs N             stop a server stream after N messages (exit 0)\n"
    "  -max-time SECONDS       unary: call deadline; server stream: stop after SECONDS (exit 0)\n"
    "  -connect-timeout SECONDS  deadline for the reflection conversation (default 10)\n"
    "  -emit-defaults          print fields that have their default value\n"
    "  -pretty                 indent JSON output (streams: one object per line otherwise)\n"
    "exit: 0 OK; 1 error status from the server (ERROR: code=<NAME> message=<msg> on stderr);\n"
    "      2 bad usage or bad -d; 3 symbol not found via reflection\n";

struct Options {
  bool plaintext = false;
  std::string cacert;
  std::string cert, key, servername;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> data;
  int64_t max_msgs = 0;   // 0 = unlimited
  double max_time_s = 0;  // 0 = none
  double connect_timeout_s = 10;
  bool emit_defaults = false;
  bool pretty = false;
  std::string addr;
  std::string verb;
  std::string arg;
};

const char* CodeName(grpc::StatusCode c) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(c);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

int ReportStatus(const grpc::Status& st) {
  std::fprintf(stderr, "ERROR: code=%s message=%s\n", CodeName(st.error_code()),
               st.error_message().c_str());
  return kExitRpcError;
}

int UsageError(const std::string& why) {
  std::fprintf(stderr, "perpgw-cli: %s\n%s", why.c_str(), kUsage);
  return kExitUsage;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool ParseSeconds(const std::string& s, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= 0) || v > 1e7) return false;
  *out = v;
  return true;
}

// Returns -1 on success, else an exit code.
int ParseArgs(int argc, char** argv, Options* o) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') a = a.substr(1);  // --flag == -flag
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "-help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "-plaintext") {
      o->plaintext = true;
    } else if (a == "-emit-defaults") {
      o->emit_defaults = true;
    } else if (a == "-pretty") {
      o->pretty = true;
    } else if (a == "-cacert") {
      if (!value(&o->cacert)) return UsageError("-cacert needs a file");
    } else if (a == "-cert") {
      if (!value(&o->cert)) return UsageError("-cert needs a file");
    } else if (a == "-key") {
      if (!value(&o->key)) return UsageError("-key needs a file");
    } else if (a == "-servername") {
      if (!value(&o->servername)) return UsageError("-servername needs a name");
    } else if (a == "-H") {
      if (!value(&v)) return UsageError("-H needs 'name: value'");
      auto colon = v.find(':');
      std::string name = colon == std::string::npos ? "" : Trim(v.substr(0, colon));
      if (name.empty()) return UsageError("-H '" + v + "': expected 'name: value'");
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      o->headers.emplace_back(name, Trim(v.substr(colon + 1)));
    } else if (a == "-d") {
      if (!value(&v)) return UsageError("-d needs a JSON object (or @ for stdin)");
      o->data = v;
    } else if (a == "-max-msgs") {
      if (!value(&v)) return UsageError("-max-msgs needs a number");
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) return UsageError("-max-msgs: bad number " + v);
      o->max_msgs = n;
    } else if (a == "-max-time") {
      if (!value(&v) || !ParseSeconds(v, &o->max_time_s)) {
        return UsageError("-max-time needs seconds (e.g. 2.5)");
      }
    } else if (a == "-connect-timeout") {
      if (!value(&v) || !ParseSeconds(v, &o->connect_timeout_s) || o->connect_timeout_s == 0) {
        return UsageError("-connect-timeout needs seconds > 0");
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return UsageError("unknown flag " + std::string(argv[i]));
    } else {
      positional.push_back(a);
    }
  }
  if (o->cert.empty() != o->key.empty()) return UsageError("-cert and -key go together");
  if (o->plaintext && (!o->cacert.empty() || !o->cert.empty() || !o->servername.empty())) {
    return UsageError("-cacert/-cert/-key/-servername need TLS (drop -plaintext)");
  }
  if (positional.size() < 2) return UsageError("need ADDR and a command");
  o->addr = positional[0];
  o->verb = positional[1];
  if (positional.size() > 3) return UsageError("too many arguments");
  if (positional.size() == 3) o->arg = positional[2];
  if (o->verb != "list" && o->verb != "describe" && o->verb != "call") {
    return UsageError("unknown command '" + o->verb + "' (list, describe, call)");
  }
  if (o->verb == "call" && o->arg.empty()) return UsageError("call needs SERVICE/METHOD");
  return -1;
}

std::shared_ptr<grpc::Channel> MakeChannel(const Options& o, std::string* err) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (o.plaintext) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!o.cacert.empty()) {
      std::ifstream in(o.cacert);
      if (!in) {
        *err = "cannot read -cacert " + o.cacert;
        return nullptr;
      }
      ssl.pem_root_certs.assign(std::istreambuf_iterator<char>(in), {});
    }
    // The client pair for mTLS. Only the file name goes into errors, never its content.
    for (auto [path, out, flag] : {std::tuple{&o.cert, &ssl.pem_cert_chain, "-cert"},
                                   std::tuple{&o.key, &ssl.pem_private_key, "-key"}}) {
      if (path->empty()) continue;
      std::ifstream in(*path);
      if (!in) {
        *err = std::string("cannot read ") + flag + " " + *path;
        return nullptr;
      }
      out->assign(std::istreambuf_iterator<char>(in), {});
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  if (!o.servername.empty()) args.SetSslTargetNameOverride(o.servername);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(o.addr, creds, args);
}

std::string StripDot(std::string s) {
  if (!s.empty() && s[0] == '.') s.erase(0, 1);
  return s;
}

int NotFound(ReflectionClient& rc, const std::string& what) {
  if (!rc.last_error().ok()) return ReportStatus(rc.last_error());
  if (!rc.pool_errors().empty()) {
    std::fprintf(stderr, "perpgw-cli: bad descriptors from the server:\n%s",
                 rc.pool_errors().c_str());
  }
  std::fprintf(stderr, "perpgw-cli: %s not found via server reflection\n", what.c_str());
  return kExitNotFound;
}

// ------------------------------------------------------------------ list / describe

int List(ReflectionClient& rc, const Options& o) {
  if (o.arg.empty()) {
    std::vector<std::string> services;
    if (auto st = rc.ListServices(&services); !st.ok()) return ReportStatus(st);
    for (const auto& s : services) std::printf("%s\n", s.c_str());
    return kExitOk;
  }
  const std::string name = StripDot(o.arg);
  const pb::ServiceDescriptor* svc = rc.pool().FindServiceByName(name);
  if (!svc) return NotFound(rc, "service '" + name + "'");
  for (int i = 0; i < svc->method_count(); ++i) {
    std::printf("%s\n", svc->method(i)->full_name().c_str());
  }
  return kExitOk;
}

// Prints the definition of whatever `name` is; false when the pool has no such symbol.
bool DescribeSymbol(const pb::DescriptorPool& pool, const std::string& name) {
  if (!pool.FindFileContainingSymbol(name)) return false;
  std::string kind, text;
  if (auto* s = pool.FindServiceByName(name)) {
    kind = "a service", text = s->DebugString();
  } else if (auto* m = pool.FindMethodByName(name)) {
    kind = "a method", text = m->DebugString();
  } else if (auto* d = pool.FindMessageTypeByName(name)) {
    kind = "a message", text = d->DebugString();
  } else if (auto* e = pool.FindEnumTypeByName(name)) {
    kind = "an enum", text = e->DebugString();
  } else if (auto* f = pool.FindFieldByName(name)) {
    kind = "a field", text = f->DebugString();
  } else if (auto* ev = pool.FindEnumValueByName(name)) {
    kind = "an enum value", text = ev->DebugString();
  } else {
    return false;
  }
  std::printf("%s is %s:\n%s", name.c_str(), kind.c_str(), text.c_str());
  if (!text.empty() && text.back() != '\n') std::printf("\n");
  return true;
}

int Describe(ReflectionClient& rc, const Options& o) {
  if (!o.arg.empty()) {
    const std::string name = StripDot(o.arg);
    return DescribeSymbol(rc.pool(), name) ? kExitOk : NotFound(rc, "symbol '" + name + "'");
  }
  std::vector<std::string> services;
  if (auto st = rc.ListServices(&services); !st.ok()) return ReportStatus(st);
  for (const auto& s : services) {
    // Some servers (e.g. gRPC's built-in health service) publish no descriptors.
    if (!DescribeSymbol(rc.pool(), s)) {
      std::fprintf(stderr, "perpgw-cli: %s: no descriptor available via reflection\n%s", s.c_str(),
                   rc.pool_errors().c_str());
    }
  }
  return kExitOk;
}

// ------------------------------------------------------------------ call

std::string ToString(const grpc::ByteBuffer& buf) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buf.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

class Printer {
 public:
  Printer(const pb::Descriptor* type, const Options& o) : type_(type) {
    opts_.preserve_proto_field_names = true;
    opts_.always_print_primitive_fields = o.emit_defaults;
    opts_.add_whitespace = o.pretty;
  }
  // Prints one response; false (with *err) when the bytes are not a `type_`.
  bool Print(const grpc::ByteBuffer& buf, std::string* err) {
    std::unique_ptr<pb::Message> msg(factory_.GetPrototype(type_)->New());
    if (!msg->ParseFromString(ToString(buf))) {
      *err = "response is not a valid " + type_->full_name();
      return false;
    }
    std::string json;
    auto st = pb::util::MessageToJsonString(*msg, &json, opts_);
    if (!st.ok()) {
      *err = "cannot print response as JSON: " + st.ToString();
      return false;
    }
    if (json.empty() || json.back() != '\n') json.push_back('\n');
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fflush(stdout);
    return true;
  }

 private:
  const pb::Descriptor* type_;
  pb::DynamicMessageFactory factory_;
  pb::util::JsonPrintOptions opts_;
};

// Server stream on the generic callback API; responses are printed as they arrive.
class StreamCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(grpc::ClientContext* ctx, Printer* printer, int64_t max_msgs)
      : ctx_(ctx), printer_(printer), max_msgs_(max_msgs) {}

  void Start(grpc::GenericStub& stub, const std::string& method, grpc::ByteBuffer request) {
    request_ = std::move(request);
    stub.PrepareBidiStreamingCall(ctx_, method, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (!printer_->Print(response_, &print_error_)) {
      Stop();
      return;
    }
    if (max_msgs_ > 0 && ++count_ >= max_msgs_) {
      Stop();
      return;
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_all();
  }

  // Waits for the end of the stream, stopping it at `deadline` if one is given.
  grpc::Status Wait(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mu_);
    if (deadline && !cv_.wait_until(lock, *deadline, [this] { return done_; })) {
      lock.unlock();
      Stop();
      lock.lock();
    }
    cv_.wait(lock, [this] { return done_; });
    return status_;
  }

  // The client ended the stream on purpose (-max-msgs, -max-time): not an error.
  bool stopped() const { return stopped_.load(); }
  const std::string& print_error() const { return print_error_; }

 private:
  void Stop() {
    stopped_.store(true);
    ctx_->TryCancel();
  }

  grpc::ClientContext* ctx_;
  Printer* printer_;
  const int64_t max_msgs_;
  int64_t count_ = 0;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::string print_error_;
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};

int Call(ReflectionClient& rc, const std::shared_ptr<grpc::Channel>& channel, const Options& o) {
  std::string name = o.arg;
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  if (auto slash = name.rfind('/'); slash != std::string::npos) name[slash] = '.';
  name = StripDot(name);
  const pb::MethodDescriptor* method = rc.pool().FindMethodByName(name);
  if (!method) return NotFound(rc, "method '" + name + "'");
  if (method->client_streaming()) {
    return UsageError(method->full_name() + " is client-streaming: not supported");
  }

  std::string json = o.data.value_or("{}");
  if (json == "@") json.assign(std::istreambuf_iterator<char>(std::cin), {});
  pb::DynamicMessageFactory factory;
  std::unique_ptr<pb::Message> req(factory.GetPrototype(method->input_type())->New());
  if (auto st = pb::util::JsonStringToMessage(json, req.get()); !st.ok()) {
    std::fprintf(stderr, "perpgw-cli: -d is not a valid %s: %s\n",
                 method->input_type()->full_name().c_str(), st.ToString().c_str());
    return kExitUsage;
  }
  std::string bytes = req->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);

  const std::string path = "/" + method->service()->full_name() + "/" + method->name();
  Printer printer(method->output_type(), o);
  rc.Close();  // every descriptor needed is in the pool now

  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  for (const auto& [k, v] : o.headers) ctx.AddMetadata(k, v);
  const auto max_time = std::chrono::microseconds(static_cast<int64_t>(o.max_time_s * 1e6));

  if (!method->server_streaming()) {
    if (o.max_time_s > 0) ctx.set_deadline(std::chrono::system_clock::now() + max_time);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, path, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status st = done.get_future().get();
    if (!st.ok()) return ReportStatus(st);
    std::string err;
    if (!printer.Print(response, &err)) {
      std::fprintf(stderr, "perpgw-cli: %s\n", err.c_str());
      return kExitNotFound;
    }
    return kExitOk;
  }

  StreamCall call(&ctx, &printer, o.max_msgs);
  call.Start(stub, path, std::move(request));
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (o.max_time_s > 0) deadline = std::chrono::steady_clock::now() + max_time;
  grpc::Status st = call.Wait(deadline);
  if (!call.print_error().empty()) {
    std::fprintf(stderr, "perpgw-cli: %s\n", call.print_error().c_str());
    return kExitNotFound;
  }
  if (call.stopped() && st.error_code() == grpc::StatusCode::CANCELLED) return kExitOk;
  return st.ok() ? kExitOk : ReportStatus(st);
}

int Run(int argc, char** argv) {
  Options o;
  if (int rc = ParseArgs(argc, argv, &o); rc >= 0) return rc;
  std::string err;
  auto channel = MakeChannel(o, &err);
  if (!channel) return UsageError(err);
  ReflectionClient rc(channel, o.headers,
                      std::chrono::milliseconds(static_cast<int64_t>(o.connect_timeout_s * 1000)));
  if (o.verb == "list") return List(rc, o);
  if (o.verb == "describe") return Describe(rc, o);
  return Call(rc, channel, o);
}

}  // namespace
}  // namespace perpgw::cli

int main(int argc, char** argv) {
  // gRPC core logs (e.g. TLS handshake noise) would duplicate the ERROR: line; opt in with
  // GRPC_VERBOSITY=ERROR.
  setenv("GRPC_VERBOSITY", "NONE", /*overwrite=*/0);
  return perpgw::cli::Run(argc, argv);
}
