// Server-reflection client: a protobuf DescriptorDatabase whose files are fetched on demand over
// one grpc.reflection.v1alpha stream, so a DescriptorPool can resolve any symbol the server knows.
#pragma once

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace grpc::reflection::v1alpha {
class ServerReflectionRequest;
class ServerReflectionResponse;
}  // namespace grpc::reflection::v1alpha

namespace perpgw::cli {

class ReflectionClient;

class ReflectionDatabase final : public google::protobuf::DescriptorDatabase {
 public:
  explicit ReflectionDatabase(ReflectionClient* client) : client_(client) {}

  bool FindFileByName(const std::string& filename,
                      google::protobuf::FileDescriptorProto* output) override;
  bool FindFileContainingSymbol(const std::string& symbol_name,
                                google::protobuf::FileDescriptorProto* output) override;
  // Extensions are not needed to call or print messages; the server is not asked.
  bool FindFileContainingExtension(const std::string& containing_type, int field_number,
                                   google::protobuf::FileDescriptorProto* output) override {
    return false;
  }

 private:
  ReflectionClient* client_;
};

// Keeps the pool's build errors (a server may publish inconsistent descriptors).
class PoolErrors final : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message* descriptor, ErrorLocation location,
                const std::string& message) override {
    text_ += filename + ": " + element_name + ": " + message + "\n";
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class ReflectionClient {
 public:
  // `metadata` is sent on the reflection stream (e.g. authorization); `timeout` bounds the whole
  // reflection conversation.
  ReflectionClient(std::shared_ptr<grpc::Channel> channel,
                   std::vector<std::pair<std::string, std::string>> metadata,
                   std::chrono::milliseconds timeout);
  ~ReflectionClient();
  ReflectionClient(const ReflectionClient&) = delete;
  ReflectionClient& operator=(const ReflectionClient&) = delete;

  // Fully qualified names of the services the server exposes, sorted.
  grpc::Status ListServices(std::vector<std::string>* out);

  // The pool resolves symbols lazily through reflection.
  const google::protobuf::DescriptorPool& pool() const { return pool_; }

  // Why the last lookup failed (transport error, or the server's reflection error); OK when the
  // server simply does not know the symbol.
  const grpc::Status& last_error() const { return last_error_; }

  // Descriptor build errors so far (empty when every file built).
  const std::string& pool_errors() const { return errors_.text(); }

  // Half-closes the stream and collects its status; later lookups fail.
  void Close();

 private:
  friend class ReflectionDatabase;
  struct Impl;

  bool FetchFile(const std::string& filename, google::protobuf::FileDescriptorProto* out);
  bool FetchSymbol(const std::string& symbol, google::protobuf::FileDescriptorProto* out);
  // One request/answer; false on a transport error or an error answer (then last_error_ is set
  // unless the answer is an ordinary NOT_FOUND).
  bool Ask(const grpc::reflection::v1alpha::ServerReflectionRequest& req,
           grpc::reflection::v1alpha::ServerReflectionResponse* resp);
  // Caches every FileDescriptorProto of a response (some servers repeat files sent earlier on
  // the stream, or list dependencies first: nothing is assumed about the order).
  bool AddFiles(const google::protobuf::RepeatedPtrField<std::string>& serialized);

  std::unique_ptr<Impl> impl_;
  grpc::Status last_error_;
  google::protobuf::SimpleDescriptorDatabase cache_;  // every file received, indexed by symbol
  std::set<std::string> cached_names_;
  std::set<std::string> missing_symbols_;
  std::set<std::string> missing_files_;
  ReflectionDatabase db_;
  PoolErrors errors_;
  google::protobuf::DescriptorPool pool_;
};

}  // namespace perpgw::cli
