// fsh — libedit glue: a prompt, emacs keys, history in ~/.fsh_history,
// and <Tab> completing builtins and file names.
#include "line_editor.hpp"

#include <fleet/base/lazy_library.hpp>
#include <fleet/shell/shell.hpp>

#include <dirent.h>
#include <histedit.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cwchar>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace fsh {
namespace {

// Opened when the interactive loop starts: `fsh -c` and scripts do not
// load it (fleet/base/lazy_library.hpp).
fleet::LazyLibrary libedit("libedit.so.2", "line editing");
#define EDIT_CALL(fn) FLEET_LAZY(libedit, fn)

std::string current_prompt;
const std::vector<std::string>* completion_names = nullptr;

char* prompt_fn(EditLine*)
{
    return current_prompt.data();
}

// One character from stdin. SIGINT is blocked except inside ppoll, so a
// Ctrl-C that lands just before the wait still ends it: el_gets then
// returns with EINTR and the shell shows a fresh prompt.
int getc_fn(EditLine*, wchar_t* out)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    ::sigprocmask(SIG_BLOCK, &block, &old);
    std::mbstate_t state{};
    int result = -1;
    for (;;) {
        if (fleet::shell::Shell::interrupt_pending()) {
            errno = EINTR;
            break;
        }
        pollfd p{0, POLLIN, 0};
        if (::ppoll(&p, 1, nullptr, &old) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        char c;
        ssize_t n = ::read(0, &c, 1);
        if (n <= 0) {
            result = static_cast<int>(n);
            break;
        }
        std::size_t r = std::mbrtowc(out, &c, 1, &state);
        if (r == static_cast<std::size_t>(-2)) continue;  // more bytes of this character
        if (r == static_cast<std::size_t>(-1)) *out = static_cast<unsigned char>(c);
        result = 1;
        break;
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return result;
}

std::string common_prefix(const std::vector<std::string>& v)
{
    if (v.empty()) return {};
    std::string p = v[0];
    for (const auto& s : v) {
        std::size_t n = 0;
        while (n < p.size() && n < s.size() && p[n] == s[n]) ++n;
        p.resize(n);
    }
    return p;
}

unsigned char complete_fn(EditLine* el, int)
{
    const LineInfo* li = EDIT_CALL(el_line)(el);
    std::string before(li->buffer, li->cursor);
    auto matches = complete(before, *completion_names);
    if (matches.empty()) return CC_REFRESH_BEEP;
    std::size_t start = before.find_last_of(" \t;|&(") + 1;
    std::string word = before.substr(start);
    std::string prefix = common_prefix(matches);
    if (prefix.size() > word.size()) {
        std::string add = prefix.substr(word.size());
        if (matches.size() == 1 && add.back() != '/') add += ' ';
        EDIT_CALL(el_insertstr)(el, add.c_str());
        return CC_REFRESH;
    }
    std::fputc('\n', stdout);
    for (const auto& m : matches) std::printf("%s  ", m.c_str());
    std::fputc('\n', stdout);
    return CC_REDISPLAY;
}

// head without its trailing blanks: what comes before its last word, and
// that word ("" after an operator or at the start).
std::pair<std::string, std::string> split_last_word(std::string head)
{
    head.erase(head.find_last_not_of(" \t") + 1);
    std::size_t start = head.find_last_of(" \t;|&(") + 1;
    return {head.substr(0, start), head.substr(start)};
}

// Whether a word typed after `head` names a command: at the start, after
// an operator, or after a reserved word a command follows (`if gr`,
// `! gr`, `time -p gr`) that is itself where a command goes.
bool at_command(const std::string& head)
{
    auto [rest, last] = split_last_word(head);
    if (last.empty()) return true;
    if (last == "-p") {
        auto [before, time] = split_last_word(rest);
        return time == "time" && at_command(before);
    }
    for (std::string_view w : {"!", "{", "if", "then", "else", "elif", "while", "until", "do", "time"})
        if (last == w) return at_command(rest);
    return false;
}

}  // namespace

std::vector<std::string> complete(const std::string& before, const std::vector<std::string>& names)
{
    std::size_t start = before.find_last_of(" \t;|&(") + 1;
    std::string word = before.substr(start);
    std::vector<std::string> out;
    if (at_command(before.substr(0, start)) && word.find('/') == std::string::npos) {
        for (const auto& n : names) {
            if (n.starts_with(word)) out.push_back(n);
        }
    }
    auto slash = word.rfind('/');
    std::string dir = slash == std::string::npos ? "." : word.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? word : word.substr(slash + 1);
    std::string shown = slash == std::string::npos ? "" : dir;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            if (!name.starts_with(base) || (name[0] == '.' && (base.empty() || base[0] != '.'))) continue;
            struct stat st {};
            bool is_dir = ::stat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
            out.push_back(shown + name + (is_dir ? "/" : ""));
        }
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

struct LineEditor::Impl {
    EditLine* el = nullptr;
    History* hist = nullptr;
    HistEvent ev{};
    std::vector<std::string> names;
    std::string history_file;
};

LineEditor::LineEditor(std::vector<std::string> words) : impl_(std::make_unique<Impl>())
{
    impl_->names = std::move(words);
    completion_names = &impl_->names;
    impl_->hist = EDIT_CALL(history_init)();
    EDIT_CALL(history)(impl_->hist, &impl_->ev, H_SETSIZE, 1000);
    EDIT_CALL(history)(impl_->hist, &impl_->ev, H_SETUNIQUE, 1);
    if (const char* home = std::getenv("HOME")) {
        impl_->history_file = std::string(home) + "/.fsh_history";
        EDIT_CALL(history)(impl_->hist, &impl_->ev, H_LOAD, impl_->history_file.c_str());
    }
    impl_->el = EDIT_CALL(el_init)("fsh", stdin, stdout, stderr);
    EDIT_CALL(el_set)(impl_->el, EL_EDITOR, "emacs");
    EDIT_CALL(el_set)(impl_->el, EL_PROMPT, prompt_fn);
    EDIT_CALL(el_set)(impl_->el, EL_GETCFN, getc_fn);
    EDIT_CALL(el_set)(impl_->el, EL_HIST, EDIT_CALL(history), impl_->hist);
    EDIT_CALL(el_set)(impl_->el, EL_ADDFN, "fsh-complete", "complete a builtin or file name", complete_fn);
    EDIT_CALL(el_set)(impl_->el, EL_BIND, "^I", "fsh-complete", nullptr);
}

LineEditor::~LineEditor()
{
    if (!impl_->history_file.empty()) EDIT_CALL(history)(impl_->hist, &impl_->ev, H_SAVE, impl_->history_file.c_str());
    EDIT_CALL(el_end)(impl_->el);
    EDIT_CALL(history_end)(impl_->hist);
}

std::optional<std::string> LineEditor::read(const std::string& prompt, bool& interrupted)
{
    current_prompt = prompt;
    int count = 0;
    errno = 0;
    const char* line = EDIT_CALL(el_gets)(impl_->el, &count);
    interrupted = false;
    if (!line || count <= 0) {
        if (errno == EINTR) {
            interrupted = true;
            return std::string();
        }
        return std::nullopt;
    }
    std::string s(line, static_cast<std::size_t>(count));
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

void LineEditor::remember(const std::string& entry)
{
    if (!entry.empty()) EDIT_CALL(history)(impl_->hist, &impl_->ev, H_ENTER, entry.c_str());
}

}  // namespace fsh
