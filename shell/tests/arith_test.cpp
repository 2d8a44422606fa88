// fleet shell — arithmetic: operators, precedence, variables, errors.
#include <fleet/shell/arith.hpp>
#include <fleet/test/support.hpp>

#include <map>

using namespace fleet::shell;

namespace {

class Vars : public ArithVariables {
public:
    std::map<std::string, std::string> values;
    std::optional<std::string> get(const std::string& name) override
    {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
    fleet::Result<void> set(const std::string& name, const std::string& value) override
    {
        values[name] = value;
        return {};
    }
};

std::int64_t eval(std::string_view expr, Vars& vars)
{
    auto r = evaluate_arith(expr, vars);
    INFO(expr << ": " << (r ? "" : r.error().message));
    REQUIRE(r);
    return *r;
}

std::int64_t eval(std::string_view expr)
{
    Vars vars;
    return eval(expr, vars);
}

}  // namespace

TEST_CASE("precedence and associativity follow C")
{
    CHECK(eval("1 + 2 * 3") == 7);
    CHECK(eval("(1 + 2) * 3") == 9);
    CHECK(eval("10 - 3 - 2") == 5);
    CHECK(eval("2 * 3 % 4") == 2);
    CHECK(eval("1 << 2 + 1") == 8);
    CHECK(eval("1 < 2 == 1") == 1);
    CHECK(eval("6 & 3 ^ 1 | 8") == 11);
    CHECK(eval("1 || 0 && 0") == 1);
    CHECK(eval("0 ? 1 : 0 ? 2 : 3") == 3);
    CHECK(eval("-3 / 2") == -1);
    CHECK(eval("-7 % 3") == -1);
    CHECK(eval("!0 + ~0 + -(-2)") == 2);
}

TEST_CASE("constants in three bases")
{
    CHECK(eval("010") == 8);
    CHECK(eval("0x1F") == 31);
    CHECK(eval("  42  ") == 42);
}

TEST_CASE("variables: read, assigned, unset is zero")
{
    Vars v;
    v.values["x"] = "5";
    v.values["e"] = "";
    v.values["ind"] = "x + 1";
    CHECK(eval("x * 2", v) == 10);
    CHECK(eval("nothing + e", v) == 0);
    CHECK(eval("ind * 2", v) == 12);
    CHECK(eval("y = x += 2", v) == 7);
    CHECK(v.values["x"] == "7");
    CHECK(v.values["y"] == "7");
    CHECK(eval("x <<= 1", v) == 14);
    CHECK(eval("x == 14", v) == 1);
}

TEST_CASE("the side not taken is not evaluated")
{
    Vars v;
    CHECK(eval("0 && (a = 1)", v) == 0);
    CHECK(eval("1 || (b = 1)", v) == 1);
    CHECK(eval("1 ? 2 : (c = 1)", v) == 2);
    CHECK(eval("0 && 1 / 0", v) == 0);
    CHECK(v.values.empty());
}

TEST_CASE("overflow wraps instead of being undefined")
{
    CHECK(eval("9223372036854775807 + 1") == INT64_MIN);
    CHECK(eval("-9223372036854775807 - 1 / -1") == -9223372036854775806);
    CHECK(eval("(-9223372036854775807 - 1) / -1") == INT64_MIN);
    CHECK(eval("1 << 64") == 1);
}

TEST_CASE("errors say what is wrong")
{
    Vars v;
    auto check = [&](std::string_view expr, std::string_view message) {
        auto r = evaluate_arith(expr, v);
        INFO(expr);
        REQUIRE_FALSE(r);
        CHECK(fleet::test::contains(r.error().message, std::string(message)));
    };
    check("1 / 0", "division by zero");
    check("5 % 0", "division by zero");
    check("1 +", "expression expected");
    check("(1", "expected ')'");
    check("09", "bad number");
    check("1 ? 2", "expected ':'");
    check("2 2", "unexpected '2'");
    check(std::string(1000, '('), "nested too deeply");
    v.values["self"] = "self";
    check("self", "nested too deeply");
}
