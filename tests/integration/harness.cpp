// POSIX process control for integration tests (fork/execve, waitpid polling, temp dirs).
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace perpgw::testing {
namespace {

int DecodeWaitStatus(int ws) {
  if (WIFEXITED(ws)) return WEXITSTATUS(ws);
  if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
  return -1;
}

std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& add,
                                  const std::vector<std::string>& unset) {
  auto unset_has = [&](const std::string& key) {
    return std::find(unset.begin(), unset.end(), key) != unset.end();
  };
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (!add.count(key) && !unset_has(key)) out.push_back(std::move(kv));
  }
  for (const auto& [k, v] : add) {
    if (!unset_has(k)) out.push_back(k + "=" + v);
  }
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs. Only async-signal-safe calls happen in the child (the parent has threads).
pid_t SpawnRaw(std::vector<std::string> argv, std::vector<std::string> env, const std::string& cwd,
               const std::string& out_path, const std::string& err_path, std::string* error) {
  if (argv.empty()) {
    *error = "empty argv";
    return -1;
  }
  std::vector<char*> cargv = CStrings(argv);
  std::vector<char*> cenv = CStrings(env);
  const bool same = out_path == err_path;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    int err = same ? out : open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(125);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(124);
    execve(cargv[0], cargv.data(), cenv.data());
    static const char kMsg[] = "harness: execve failed\n";
    (void)!write(2, kMsg, sizeof(kMsg) - 1);
    _exit(127);
  }
  return pid;
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::Spawn(const ProcessOptions& opts, std::string* error) {
  if (opts.log_path.empty()) {
    *error = "log_path is required";
    return nullptr;
  }
  pid_t pid = SpawnRaw(opts.argv, BuildEnv(opts.env, opts.unset_env), opts.cwd, opts.log_path,
                       opts.log_path, error);
  if (pid < 0) return nullptr;
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, opts.log_path));
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    kill(pid_, SIGKILL);
    int ws = 0;
    while (waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
    Reap(ws);
  }
}

void ChildProcess::Reap(int wait_status) { exit_code_ = DecodeWaitStatus(wait_status); }

bool ChildProcess::Running() {
  if (exit_code_) return false;
  int ws = 0;
  pid_t r = waitpid(pid_, &ws, WNOHANG);
  if (r == pid_) {
    Reap(ws);
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    exit_code_ = -1;  // reaped elsewhere: treat as gone
    return false;
  }
  return true;
}

std::optional<int> ChildProcess::WaitExit(Millis timeout) {
  WaitUntil([this] { return !Running(); }, timeout, Millis(5));
  return exit_code_;
}

void ChildProcess::Signal(int sig) {
  if (Running()) kill(pid_, sig);
}

std::optional<int> ChildProcess::Terminate(Millis timeout) {
  Signal(SIGTERM);
  return WaitExit(timeout);
}

std::string ChildProcess::ReadLog() const { return ReadFile(log_path_); }

RunResult Run(const std::vector<std::string>& argv, Millis timeout,
              const std::map<std::string, std::string>& env,
              const std::vector<std::string>& unset_env) {
  RunResult r;
  TempDir dir("perpgw-run");
  const std::string out = dir.File("stdout"), err = dir.File("stderr");
  std::string error;
  pid_t pid = SpawnRaw(argv, BuildEnv(env, unset_env), "", out, err, &error);
  if (pid < 0) {
    r.err = error;
    return r;
  }
  std::optional<int> code;
  WaitUntil(
      [&] {
        int ws = 0;
        if (waitpid(pid, &ws, WNOHANG) == pid) code = DecodeWaitStatus(ws);
        return code.has_value();
      },
      timeout, Millis(2));
  if (!code) {
    r.timed_out = true;
    kill(pid, SIGKILL);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    code = DecodeWaitStatus(ws);
  }
  r.exit_code = *code;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

double TimeScale() {
  static const double scale = [] {
    const char* v = std::getenv("PERPGW_TEST_TIME_SCALE");
    if (v == nullptr || *v == '\0') return 1.0;
    char* end = nullptr;
    const double d = std::strtod(v, &end);
    // A typo must not shorten every wait: anything but a number in [1, 100] is refused loudly.
    if (end == v || *end != '\0' || !(d >= 1.0 && d <= 100.0)) {
      std::fprintf(stderr, "PERPGW_TEST_TIME_SCALE=%s: want a number in [1, 100]\n", v);
      std::abort();
    }
    return d;
  }();
  return scale;
}

Millis Scaled(Millis timeout) {
  return Millis(static_cast<int64_t>(static_cast<double>(timeout.count()) * TimeScale()));
}

bool WaitUntil(const std::function<bool()>& ready, Millis timeout, Millis poll) {
  const auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (true) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

std::optional<std::string> WaitForFile(const std::string& path, Millis timeout, ChildProcess* proc,
                                       const std::function<bool(const std::string&)>& complete) {
  std::optional<std::string> got;
  bool died = false;
  WaitUntil(
      [&] {
        std::string s = ReadFile(path);
        bool ok = complete ? complete(s) : (!s.empty() && s.back() == '\n');
        if (ok) {
          got = std::move(s);
          return true;
        }
        if (proc && !proc->Running()) died = true;
        return died;
      },
      timeout);
  return died ? std::nullopt : got;
}

std::optional<int> WaitForPortFile(const std::string& path, Millis timeout, ChildProcess* proc) {
  auto s = WaitForFile(path, timeout, proc);
  if (!s) return std::nullopt;
  char* end = nullptr;
  long port = std::strtol(s->c_str(), &end, 10);
  if (end == s->c_str() || port <= 0 || port > 65535) return std::nullopt;
  return static_cast<int>(port);
}

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data())) path_ = buf.data();
}

TempDir::~TempDir() {
  const char* keep = std::getenv("PERPGW_KEEP_TEST_DIRS");
  if (path_.empty() || (keep && std::string(keep) == "1")) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

}  // namespace perpgw::testing
