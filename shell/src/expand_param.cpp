// fleet shell — parameter expansion ${...} and arithmetic $(( )) (XCU 2.6.2, 2.6.4).
#include "expand_internal.hpp"

#include <fleet/shell/arith.hpp>

namespace fleet::shell {
namespace {

bool is_multi(const std::string& name)
{
    return name == "@" || name == "*";
}

std::string join_positional(const Shell& sh, bool star)
{
    std::string sep = " ";
    if (star) {
        std::string ifs = sh.ifs();
        sep = ifs.empty() ? "" : ifs.substr(0, 1);
    }
    std::string out;
    for (std::size_t i = 0; i < sh.positional.size(); ++i) {
        if (i > 0) out += sep;
        out += sh.positional[i];
    }
    return out;
}

// $@ and $* without an operator.
void expand_positional(Shell& sh, const WordPart& part, FieldBuilder& out)
{
    if (part.quoted && part.text == "*") {
        out.append(join_positional(sh, true), Mark::quoted);
        return;
    }
    for (std::size_t i = 0; i < sh.positional.size(); ++i) {
        if (i > 0) out.break_field();
        out.append(sh.positional[i], part.quoted ? Mark::quoted : Mark::splittable);
    }
}

std::string remove_affix(const std::string& v, const Pattern& p, ParamOp op)
{
    const std::size_t n = v.size();
    switch (op) {
        case ParamOp::remove_small_prefix:
            for (std::size_t k = 0; k <= n; ++k) {
                if (pattern_match(p, std::string_view(v).substr(0, k))) return v.substr(k);
            }
            break;
        case ParamOp::remove_large_prefix:
            for (std::size_t k = n + 1; k-- > 0;) {
                if (pattern_match(p, std::string_view(v).substr(0, k))) return v.substr(k);
            }
            break;
        case ParamOp::remove_small_suffix:
            for (std::size_t k = n + 1; k-- > 0;) {
                if (pattern_match(p, std::string_view(v).substr(k))) return v.substr(0, k);
            }
            break;
        default:
            for (std::size_t k = 0; k <= n; ++k) {
                if (pattern_match(p, std::string_view(v).substr(k))) return v.substr(0, k);
            }
            break;
    }
    return v;
}

class ShellArith : public ArithVariables {
public:
    explicit ShellArith(Shell& sh) : sh_(sh) {}
    std::optional<std::string> get(const std::string& name) override
    {
        auto v = sh_.get(name);
        if (!v && sh_.options.nounset) sh_.fatal(name + ": parameter not set");
        return v;
    }
    Result<void> set(const std::string& name, const std::string& value) override
    {
        if (!sh_.set(name, value)) return fail(name + ": is read only");
        return {};
    }

private:
    Shell& sh_;
};

}  // namespace

void expand_param(Shell& sh, const WordPart& part, FieldBuilder& out)
{
    const std::string& name = part.text;
    const Mark mark = part.quoted ? Mark::quoted : Mark::splittable;
    if (is_multi(name) && part.op == ParamOp::none) return expand_positional(sh, part, out);
    std::optional<std::string> value =
        is_multi(name) ? (sh.positional.empty() ? std::nullopt : std::optional(join_positional(sh, name == "*")))
                       : sh.special_param(name);
    if (is_multi(name) && sh.positional.empty() && part.op != ParamOp::none) value = std::string();
    bool unset_or_null = !value || (part.colon && value->empty());
    switch (part.op) {
        case ParamOp::use_default:
            if (unset_or_null) return expand_parts(sh, part.arg, out, false);
            break;
        case ParamOp::assign_default:
            if (unset_or_null) {
                std::string v = expand_text(sh, part.arg);
                if (!sh.set(name, v)) sh.fatal(name + ": is read only");
                value = v;
            }
            break;
        case ParamOp::error_if_unset:
            if (unset_or_null) {
                std::string msg = part.arg.empty() ? (part.colon ? "parameter null or not set" : "parameter not set")
                                                   : expand_text(sh, part.arg);
                sh.fatal(name + ": " + msg);
            }
            break;
        case ParamOp::use_alternate:
            if (!unset_or_null) expand_parts(sh, part.arg, out, false);
            return;
        default:
            if (!value && sh.options.nounset) sh.fatal(name + ": parameter not set");
            break;
    }
    std::string v = value.value_or("");
    if (part.op == ParamOp::length) {
        v = std::to_string(is_multi(name) ? sh.positional.size() : v.size());
    } else if (part.op >= ParamOp::remove_small_prefix) {
        v = remove_affix(v, expand_pattern(sh, part.arg), part.op);
    }
    out.append(v, mark);
}

std::string expand_arith(Shell& sh, const WordPart& part)
{
    std::string text = expand_text(sh, part.arg);
    ShellArith vars(sh);
    auto v = evaluate_arith(text, vars);
    if (!v) sh.fatal(v.error().message);
    return std::to_string(*v);
}

}  // namespace fleet::shell
