// fleet shell — what the expansion files share (private).
#pragma once

#include <fleet/shell/expand.hpp>

#include <string_view>

namespace fleet::shell {

enum class Mark : unsigned char {
    literal,       // unquoted text from the script: globbed, not split
    quoted,        // quoted: neither split nor globbed
    splittable,    // an unquoted expansion's result: split and globbed
    empty_quoted,  // "" here: keeps an otherwise empty field alive
};

struct Field {
    std::string text;
    std::vector<Mark> marks;  // one per byte of text
};

// Fields under construction. In joined mode (no field splitting) a field
// break is a space, as "$@" reads in an assignment.
class FieldBuilder {
public:
    explicit FieldBuilder(bool joined = false) : joined_(joined) {}
    void append(std::string_view text, Mark mark);
    void break_field();
    [[nodiscard]] const std::vector<Field>& fields() const { return fields_; }

private:
    Field& current();
    bool joined_;
    std::vector<Field> fields_;
};

void expand_parts(Shell& sh, const std::vector<WordPart>& parts, FieldBuilder& out, bool tilde);
void expand_param(Shell& sh, const WordPart& part, FieldBuilder& out);
std::string expand_arith(Shell& sh, const WordPart& part);

}  // namespace fleet::shell
