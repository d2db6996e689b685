// Integration-test harness: child processes with captured output, deadlines for files, ports and
// exits. No test framework here so venue and sim tests can reuse it with any runner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace perpgw::testing {

using Millis = std::chrono::milliseconds;

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the executable path
  std::map<std::string, std::string> env;  // added to (or replacing) the parent's env
  std::vector<std::string> unset_env;      // removed (wins over `env`)
  std::string log_path;                    // stdout+stderr go here (truncated first)
  std::string cwd;                         // empty = inherit
};

// A spawned child. stdin is /dev/null; stdout and stderr are appended to one log file. The child
// gets SIGKILL if the spawning thread dies, and the destructor kills it if it still runs, so a
// failing test never leaves daemons behind.
class ChildProcess {
 public:
  // nullptr (with *error) when the process cannot be started (exec failures show up as exit 127).
  static std::unique_ptr<ChildProcess> Spawn(const ProcessOptions& opts, std::string* error);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // True until the exit has been observed (reaps the child when it has exited).
  bool Running();
  // The exit code once the process has ended (128+N when killed by signal N).
  std::optional<int> exit_code() const { return exit_code_; }
  // Waits up to `timeout` for the process to end; its exit code, or nullopt on timeout.
  std::optional<int> WaitExit(Millis timeout);
  // Sends `sig` (no-op once exited).
  void Signal(int sig);
  // SIGTERM, then waits up to `timeout`; nullopt when still running (it is then left running so
  // the caller can inspect it; the destructor will SIGKILL it).
  std::optional<int> Terminate(Millis timeout);
  // Everything the process has written so far.
  std::string ReadLog() const;

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  void Reap(int wait_status);

  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

// Result of running a command to completion.
struct RunResult {
  int exit_code = -1;      // 128+N when killed by signal N; -1 when it could not start
  bool timed_out = false;  // killed with SIGKILL at the deadline
  std::string out;         // stdout
  std::string err;         // stderr (or the spawn error)
};

// Runs a command with its own stdout/stderr capture; kills it at `timeout`.
RunResult Run(const std::vector<std::string>& argv, Millis timeout,
              const std::map<std::string, std::string>& env = {},
              const std::vector<std::string>& unset_env = {});

// PERPGW_TEST_TIME_SCALE (default 1; scripts/sanitize.sh sets it): sanitizer runtimes are 2-15x
// slower, so every patience below is multiplied by it. What a test asserts never changes, only
// how long it waits for it; the normal test command runs at 1.
double TimeScale();
Millis Scaled(Millis timeout);
// Polls `ready` until it is true or Scaled(timeout) has passed.
bool WaitUntil(const std::function<bool()>& ready, Millis timeout, Millis poll = Millis(10));

// Waits for `path` to exist with content accepted by `complete` (default: non-empty and ending
// in a newline, i.e. written and closed). Gives up early when `proc` (if given) exits.
std::optional<std::string> WaitForFile(
    const std::string& path, Millis timeout, ChildProcess* proc = nullptr,
    const std::function<bool(const std::string&)>& complete = {});

// Waits for a port file written by `--port-file` (a decimal port and a newline).
std::optional<int> WaitForPortFile(const std::string& path, Millis timeout,
                                   ChildProcess* proc = nullptr);

// An ephemeral port that was free a moment ago (bind port 0, read it, close). Racy by nature:
// prefer letting the server bind port 0 and report it (port file / endpoints file).
int PickFreePort();

// A fresh directory under $TMPDIR (or /tmp), removed with its content on destruction unless the
// environment sets PERPGW_KEEP_TEST_DIRS=1 (for post-mortems).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "perpgw-it");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Absolute path of `name` inside the directory.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
bool WriteFile(const std::string& path, const std::string& content);

}  // namespace perpgw::testing
