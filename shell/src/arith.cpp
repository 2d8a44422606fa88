// fleet shell — arithmetic: a precedence-climbing evaluator over the text.
#include <fleet/shell/arith.hpp>

#include <array>
#include <cctype>
#include <climits>

namespace fleet::shell {
namespace {

struct ArithError {
    std::string message;
};

// Binary operators by precedence (higher binds tighter); assignment and ?: apart.
struct BinaryOp {
    std::string_view text;
    int precedence;
};
constexpr std::array<BinaryOp, 18> binary_ops = {{
    {"||", 1},
    {"&&", 2},
    {"|", 3},
    {"^", 4},
    {"&", 5},
    {"==", 6},
    {"!=", 6},
    {"<=", 7},
    {">=", 7},
    {"<<", 8},
    {">>", 8},
    {"<", 7},
    {">", 7},
    {"+", 9},
    {"-", 9},
    {"*", 10},
    {"/", 10},
    {"%", 10},
}};

constexpr std::array<std::string_view, 11> assign_ops = {
    "=", "*=", "/=", "%=", "+=", "-=", "<<=", ">>=", "&=", "^=", "|="};

class Evaluator {
public:
    Evaluator(std::string_view text, ArithVariables& vars) : s_(text), vars_(vars) {}

    std::int64_t run()
    {
        std::int64_t v = assignment(true);
        skip();
        if (i_ < s_.size()) fail("unexpected '" + std::string(s_.substr(i_, 1)) + "'");
        return v;
    }

private:
    [[noreturn]] void fail(std::string message) { throw ArithError{std::move(message)}; }

    void skip()
    {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool at(std::string_view t)
    {
        skip();
        return s_.substr(i_).starts_with(t);
    }

    std::int64_t apply(std::string_view op, std::int64_t a, std::int64_t b, bool eval)
    {
        if (!eval) return 0;
        auto u = [](std::int64_t x) { return static_cast<std::uint64_t>(x); };
        if (op == "||") return a || b;
        if (op == "&&") return a && b;
        if (op == "|") return a | b;
        if (op == "^") return a ^ b;
        if (op == "&") return a & b;
        if (op == "==") return a == b;
        if (op == "!=") return a != b;
        if (op == "<=") return a <= b;
        if (op == ">=") return a >= b;
        if (op == "<") return a < b;
        if (op == ">") return a > b;
        if (op == "<<") return static_cast<std::int64_t>(u(a) << (u(b) & 63));
        if (op == ">>") return a >> (u(b) & 63);
        if (op == "+") return static_cast<std::int64_t>(u(a) + u(b));
        if (op == "-") return static_cast<std::int64_t>(u(a) - u(b));
        if (op == "*") return static_cast<std::int64_t>(u(a) * u(b));
        if (b == 0) fail("division by zero");
        if (a == INT64_MIN && b == -1) return op == "/" ? a : 0;
        return op == "/" ? a / b : a % b;
    }

    // assignment: NAME assign_op assignment | conditional
    std::int64_t assignment(bool eval)
    {
        skip();
        std::size_t start = i_;
        std::string name = read_name();
        if (!name.empty()) {
            for (auto op : assign_ops) {
                if (at(op) && !(op == "=" && at("=="))) {
                    i_ += op.size();
                    std::int64_t rhs = assignment(eval);
                    if (!eval) return 0;
                    std::int64_t v = op == "=" ? rhs : apply(op.substr(0, op.size() - 1), variable(name), rhs, true);
                    if (auto r = vars_.set(name, std::to_string(v)); !r) fail(r.error().message);
                    return v;
                }
            }
        }
        i_ = start;
        return conditional(eval);
    }

    // conditional: binary ('?' assignment ':' conditional)?
    std::int64_t conditional(bool eval)
    {
        std::int64_t c = binary(1, eval);
        if (!at("?")) return c;
        ++i_;
        std::int64_t a = assignment(eval && c != 0);
        if (!at(":")) fail("expected ':' in ?:");
        ++i_;
        std::int64_t b = conditional(eval && c == 0);
        return c ? a : b;
    }

    // Precedence climbing over binary_ops.
    std::int64_t binary(int min_precedence, bool eval)
    {
        std::int64_t left = unary(eval);
        for (;;) {
            const BinaryOp* found = nullptr;
            for (const auto& op : binary_ops) {
                if (op.precedence >= min_precedence && at(op.text) && !is_assign_here(op.text)) {
                    found = &op;
                    break;
                }
            }
            if (!found) return left;
            i_ += found->text.size();
            bool rhs_eval = eval && !(found->text == "&&" && !left) && !(found->text == "||" && left);
            std::int64_t right = binary(found->precedence + 1, rhs_eval);
            if (found->text == "&&" || found->text == "||") {
                left = eval ? apply(found->text, left != 0, right != 0, true) : 0;
            } else {
                left = apply(found->text, left, right, eval);
            }
        }
    }

    // "<" in "<<=" or "|" in "||": the longer operator wins.
    bool is_assign_here(std::string_view op)
    {
        std::string_view rest = s_.substr(i_ + op.size());
        if (rest.starts_with("=") && op != "==" && op != "!=" && op != "<=" && op != ">=") return true;
        if ((op == "<" || op == ">") && !rest.empty() && rest[0] == op[0]) return true;
        if ((op == "|" || op == "&") && !rest.empty() && rest[0] == op[0]) return true;
        return false;
    }

    std::int64_t unary(bool eval)
    {
        if (++depth_ > 256) fail("expression nested too deeply");
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        skip();
        if (i_ >= s_.size()) fail("expression expected");
        char c = s_[i_];
        if (c == '+' || c == '-' || c == '!' || c == '~') {
            ++i_;
            std::int64_t v = unary(eval);
            if (c == '-') return static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(v));
            if (c == '!') return !v;
            if (c == '~') return ~v;
            return v;
        }
        if (c == '(') {
            ++i_;
            std::int64_t v = assignment(eval);
            if (!at(")")) fail("expected ')'");
            ++i_;
            return v;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) return number();
        std::string name = read_name();
        if (name.empty()) fail("unexpected '" + std::string(1, c) + "'");
        return eval ? variable(name) : 0;
    }

    std::string read_name()
    {
        skip();
        std::size_t start = i_;
        if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) {
            while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) ++i_;
        }
        return std::string(s_.substr(start, i_ - start));
    }

    std::int64_t number()
    {
        std::size_t start = i_;
        while (i_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[i_]))) ++i_;
        return parse_constant(s_.substr(start, i_ - start));
    }

    std::int64_t parse_constant(std::string_view t)
    {
        int base = 10;
        if (t.size() > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
            base = 16;
            t.remove_prefix(2);
        } else if (t.size() > 1 && t[0] == '0') {
            base = 8;
            t.remove_prefix(1);
        }
        if (t.empty()) fail("bad number");
        std::uint64_t v = 0;
        for (char ch : t) {
            int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
                    : std::isalpha(static_cast<unsigned char>(ch))
                        ? std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10
                        : 99;
            if (d >= base) fail("bad number '" + std::string(t) + "'");
            v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
        }
        return static_cast<std::int64_t>(v);
    }

    std::int64_t variable(const std::string& name)
    {
        auto value = vars_.get(name);
        if (!value || value->empty()) return 0;
        if (++depth_ > 256) fail("expression nested too deeply");
        Evaluator inner(*value, vars_);
        inner.depth_ = depth_;
        std::int64_t v = inner.run();
        --depth_;
        return v;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    ArithVariables& vars_;
    int depth_ = 0;
};

}  // namespace

Result<std::int64_t> evaluate_arith(std::string_view expr, ArithVariables& vars)
{
    try {
        return Evaluator(expr, vars).run();
    } catch (const ArithError& e) {
        return fail("arithmetic expression: " + e.message + ": \"" + std::string(expr) + "\"");
    }
}

}  // namespace fleet::shell
