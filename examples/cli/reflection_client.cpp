// Server-reflection client over one bidi stream; files are cached so each is fetched once.
#include "examples/cli/reflection_client.h"

#include <algorithm>

#include "reflection.grpc.pb.h"

namespace perpgw::cli {

namespace rpb = grpc::reflection::v1alpha;

struct ReflectionClient::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::chrono::milliseconds timeout;
  std::unique_ptr<rpb::ServerReflection::Stub> stub;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<
      grpc::ClientReaderWriter<rpb::ServerReflectionRequest, rpb::ServerReflectionResponse>>
      stream;
  bool broken = false;

  // One request → one response. A failed stream is finished so its status explains the failure.
  grpc::Status RoundTrip(const rpb::ServerReflectionRequest& req,
                         rpb::ServerReflectionResponse* resp) {
    if (broken) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "reflection stream closed");
    if (!stream) {
      stub = rpb::ServerReflection::NewStub(channel);
      ctx = std::make_unique<grpc::ClientContext>();
      for (const auto& [k, v] : metadata) ctx->AddMetadata(k, v);
      ctx->set_deadline(std::chrono::system_clock::now() + timeout);
      stream = stub->ServerReflectionInfo(ctx.get());
    }
    if (stream->Write(req) && stream->Read(resp)) return grpc::Status::OK;
    broken = true;
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (st.ok()) {
      st = grpc::Status(grpc::StatusCode::INTERNAL, "reflection stream ended without an answer");
    }
    return st;
  }
};

bool ReflectionDatabase::FindFileByName(const std::string& filename,
                                        google::protobuf::FileDescriptorProto* output) {
  return client_->FetchFile(filename, output);
}

bool ReflectionDatabase::FindFileContainingSymbol(const std::string& symbol_name,
                                                  google::protobuf::FileDescriptorProto* output) {
  return client_->FetchSymbol(symbol_name, output);
}

ReflectionClient::ReflectionClient(std::shared_ptr<grpc::Channel> channel,
                                   std::vector<std::pair<std::string, std::string>> metadata,
                                   std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), db_(this), pool_(&db_, &errors_) {
  impl_->channel = std::move(channel);
  impl_->metadata = std::move(metadata);
  impl_->timeout = timeout;
}

ReflectionClient::~ReflectionClient() { Close(); }

void ReflectionClient::Close() {
  if (impl_->stream && !impl_->broken) {
    impl_->broken = true;
    impl_->stream->WritesDone();
    impl_->stream->Finish();
  }
  impl_->broken = true;
}

grpc::Status ReflectionClient::ListServices(std::vector<std::string>* out) {
  rpb::ServerReflectionRequest req;
  req.set_list_services("*");
  rpb::ServerReflectionResponse resp;
  last_error_ = grpc::Status::OK;
  if (!Ask(req, &resp)) {
    return last_error_.ok() ? grpc::Status(grpc::StatusCode::NOT_FOUND, "no services listed")
                            : last_error_;
  }
  for (const auto& s : resp.list_services_response().service()) out->push_back(s.name());
  // gRPC C++ before 1.5x reuses one response per stream, so answers can repeat earlier content.
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return grpc::Status::OK;
}

bool ReflectionClient::AddFiles(const google::protobuf::RepeatedPtrField<std::string>& serialized) {
  for (const auto& bytes : serialized) {
    google::protobuf::FileDescriptorProto fd;
    if (!fd.ParseFromString(bytes)) {
      last_error_ = grpc::Status(grpc::StatusCode::INTERNAL,
                                 "server sent an unparseable FileDescriptorProto");
      return false;
    }
    if (cached_names_.insert(fd.name()).second) cache_.AddAndOwn(new auto(std::move(fd)));
  }
  return true;
}

bool ReflectionClient::FetchFile(const std::string& filename,
                                 google::protobuf::FileDescriptorProto* out) {
  if (cache_.FindFileByName(filename, out)) return true;
  if (missing_files_.count(filename)) return false;
  rpb::ServerReflectionRequest req;
  req.set_file_by_filename(filename);
  rpb::ServerReflectionResponse resp;
  if (!Ask(req, &resp) || !AddFiles(resp.file_descriptor_response().file_descriptor_proto()) ||
      !cache_.FindFileByName(filename, out)) {
    missing_files_.insert(filename);
    return false;
  }
  return true;
}

bool ReflectionClient::FetchSymbol(const std::string& symbol,
                                   google::protobuf::FileDescriptorProto* out) {
  if (cache_.FindFileContainingSymbol(symbol, out)) return true;
  if (missing_symbols_.count(symbol)) return false;
  rpb::ServerReflectionRequest req;
  req.set_file_containing_symbol(symbol);
  rpb::ServerReflectionResponse resp;
  if (!Ask(req, &resp) || !AddFiles(resp.file_descriptor_response().file_descriptor_proto()) ||
      !cache_.FindFileContainingSymbol(symbol, out)) {
    missing_symbols_.insert(symbol);
    return false;
  }
  return true;
}

bool ReflectionClient::Ask(const grpc::reflection::v1alpha::ServerReflectionRequest& req,
                           grpc::reflection::v1alpha::ServerReflectionResponse* resp) {
  grpc::Status st = impl_->RoundTrip(req, resp);
  if (!st.ok()) {
    last_error_ = st;
    return false;
  }
  if (resp->has_error_response()) {
    // NOT_FOUND is an ordinary miss; anything else explains a failure.
    const auto& e = resp->error_response();
    if (e.error_code() != static_cast<int>(grpc::StatusCode::NOT_FOUND)) {
      last_error_ = grpc::Status(static_cast<grpc::StatusCode>(e.error_code()), e.error_message());
    }
    return false;
  }
  return true;
}

}  // namespace perpgw::cli
