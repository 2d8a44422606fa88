// fleet shell — arithmetic expansion $(( )) (POSIX XCU 2.6.4).
//
// Signed 64-bit integers, C's operators and precedence without ++/--:
// unary + - ! ~, * / %, + -, << >>, < <= > >=, == !=, &, ^, |, &&, ||,
// ?:, and the assignments = *= /= %= += -= <<= >>= &= ^= |=. Constants
// are decimal, octal (0NN) or hexadecimal (0xNN). A variable name stands
// for its value, itself read as an expression constant; unset or empty
// is 0. && || and ?: do not evaluate (or assign in) the side not taken.
#pragma once

#include <fleet/base/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::shell {

class ArithVariables {
public:
    virtual ~ArithVariables() = default;
    virtual std::optional<std::string> get(const std::string& name) = 0;
    virtual Result<void> set(const std::string& name, const std::string& value) = 0;
};

// The value of expr, or an error that names what is wrong ("division by zero").
Result<std::int64_t> evaluate_arith(std::string_view expr, ArithVariables& vars);

}  // namespace fleet::shell
