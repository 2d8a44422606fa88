// fleet shell — `test EXPR` and `[ EXPR ]` (POSIX test, with -a -o ( )).
#include "builtins.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace fleet::shell {
namespace {

struct TestError {
    std::string message;
};

bool file_test(char op, const std::string& path)
{
    struct stat st {};
    bool is_link_op = op == 'h' || op == 'L';
    int r = is_link_op ? ::lstat(path.c_str(), &st) : ::stat(path.c_str(), &st);
    if (r != 0) return false;
    switch (op) {
        case 'e':
            return true;
        case 'f':
            return S_ISREG(st.st_mode);
        case 'd':
            return S_ISDIR(st.st_mode);
        case 'b':
            return S_ISBLK(st.st_mode);
        case 'c':
            return S_ISCHR(st.st_mode);
        case 'p':
            return S_ISFIFO(st.st_mode);
        case 'S':
            return S_ISSOCK(st.st_mode);
        case 'h':
        case 'L':
            return S_ISLNK(st.st_mode);
        case 's':
            return st.st_size > 0;
        case 'g':
            return st.st_mode & S_ISGID;
        case 'u':
            return st.st_mode & S_ISUID;
        case 'r':
            return ::access(path.c_str(), R_OK) == 0;
        case 'w':
            return ::access(path.c_str(), W_OK) == 0;
        case 'x':
            return ::access(path.c_str(), X_OK) == 0;
        default:
            return false;
    }
}

bool is_unary(const std::string& s)
{
    return s.size() == 2 && s[0] == '-' && std::string_view("efdbcpShLsgurwxnzt").find(s[1]) != std::string_view::npos;
}

bool is_binary(const std::string& s)
{
    for (const char* op : {"=", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef", "<", ">"}) {
        if (s == op) return true;
    }
    return false;
}

long integer(const std::string& s)
{
    auto n = parse_number(s);
    if (!n) throw TestError{s + ": bad number"};
    return *n;
}

bool binary(const std::string& a, const std::string& op, const std::string& b)
{
    if (op == "=") return a == b;
    if (op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == ">") return a > b;
    if (op == "-nt" || op == "-ot" || op == "-ef") {
        struct stat sa {
        }, sb{};
        bool ha = ::stat(a.c_str(), &sa) == 0, hb = ::stat(b.c_str(), &sb) == 0;
        if (op == "-ef") return ha && hb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
        if (op == "-nt") return ha && (!hb || sa.st_mtim.tv_sec > sb.st_mtim.tv_sec);
        return hb && (!ha || sa.st_mtim.tv_sec < sb.st_mtim.tv_sec);
    }
    long x = integer(a), y = integer(b);
    if (op == "-eq") return x == y;
    if (op == "-ne") return x != y;
    if (op == "-lt") return x < y;
    if (op == "-le") return x <= y;
    if (op == "-gt") return x > y;
    return x >= y;
}

class TestParser {
public:
    explicit TestParser(std::vector<std::string> a) : a_(std::move(a)) {}

    bool run()
    {
        if (a_.empty()) return false;
        bool v = or_expr();
        if (i_ != a_.size()) throw TestError{a_[i_] + ": unexpected operator"};
        return v;
    }

private:
    bool more() const { return i_ < a_.size(); }
    const std::string& take()
    {
        if (!more()) throw TestError{"argument expected"};
        return a_[i_++];
    }

    bool or_expr()
    {
        bool v = and_expr();
        while (more() && a_[i_] == "-o") {
            ++i_;
            v = and_expr() || v;
        }
        return v;
    }
    bool and_expr()
    {
        bool v = not_expr();
        while (more() && a_[i_] == "-a") {
            ++i_;
            v = not_expr() && v;
        }
        return v;
    }
    bool not_expr()
    {
        if (more() && a_[i_] == "!" && a_.size() - i_ > 1) {
            ++i_;
            return !not_expr();
        }
        return primary();
    }
    bool primary()
    {
        std::size_t left = a_.size() - i_;
        if (left >= 3 && is_binary(a_[i_ + 1])) {
            const std::string& a = take();
            const std::string& op = take();
            return binary(a, op, take());
        }
        if (more() && a_[i_] == "(" && left >= 2) {
            ++i_;
            bool v = or_expr();
            if (!more() || take() != ")") throw TestError{"')' expected"};
            return v;
        }
        if (left >= 2 && is_unary(a_[i_])) {
            char op = take()[1];
            const std::string& arg = take();
            if (op == 'n') return !arg.empty();
            if (op == 'z') return arg.empty();
            if (op == 't') return ::isatty(static_cast<int>(integer(arg))) == 1;
            return file_test(op, arg);
        }
        return !take().empty();
    }

    std::vector<std::string> a_;
    std::size_t i_ = 0;
};

}  // namespace

int builtin_test(Shell& sh, Args& args)
{
    std::vector<std::string> a(args.begin() + 1, args.end());
    if (args[0] == "[") {
        if (a.empty() || a.back() != "]") return usage_error(sh, args, "missing ]");
        a.pop_back();
    }
    try {
        return TestParser(std::move(a)).run() ? 0 : 1;
    } catch (const TestError& e) {
        return usage_error(sh, args, e.message);
    }
}

}  // namespace fleet::shell
