// fleet shell — word expansion: building fields from parts, then field
// splitting, pathname expansion and quote removal. Parameter operators:
// expand_param.cpp.
#include "expand_internal.hpp"

#include <pwd.h>

namespace fleet::shell {

void FieldBuilder::append(std::string_view text, Mark mark)
{
    if (text.empty() && mark == Mark::quoted) {
        current().text.push_back('\0');
        current().marks.push_back(Mark::empty_quoted);
        return;
    }
    current().text.append(text);
    current().marks.insert(current().marks.end(), text.size(), mark);
}

void FieldBuilder::break_field()
{
    if (joined_) {
        append(" ", Mark::quoted);
    } else {
        fields_.emplace_back();
    }
}

Field& FieldBuilder::current()
{
    if (fields_.empty()) fields_.emplace_back();
    return fields_.back();
}

namespace {

bool is_ifs_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

// Field splitting of one built field (XCU 2.6.5).
void split_field(const Field& in, const std::string& ifs, std::vector<Field>& out)
{
    Field cur;
    bool open = false, in_delim = false, nonspace_in_run = false;
    auto emit = [&] {
        out.push_back(std::move(cur));
        cur = Field{};
        open = false;
        in_delim = true;
    };
    for (std::size_t i = 0; i < in.text.size(); ++i) {
        char c = in.text[i];
        Mark m = in.marks[i];
        if (m == Mark::splittable && ifs.find(c) != std::string::npos) {
            if (is_ifs_space(c)) {
                if (open) {
                    emit();
                    nonspace_in_run = false;
                }
                continue;
            }
            if (in_delim && !nonspace_in_run) {
                nonspace_in_run = true;
                continue;
            }
            emit();
            nonspace_in_run = true;
            continue;
        }
        cur.text.push_back(c);
        cur.marks.push_back(m);
        open = true;
        in_delim = false;
        nonspace_in_run = false;
    }
    if (open) out.push_back(std::move(cur));
}

Pattern to_pattern(const Field& f)
{
    Pattern p;
    for (std::size_t i = 0; i < f.text.size(); ++i) {
        if (f.marks[i] == Mark::empty_quoted) continue;
        p.text.push_back(f.text[i]);
        p.quoted.push_back(f.marks[i] == Mark::quoted);
    }
    return p;
}

std::string plain_text(const Field& f)
{
    std::string s;
    for (std::size_t i = 0; i < f.text.size(); ++i) {
        if (f.marks[i] != Mark::empty_quoted) s.push_back(f.text[i]);
    }
    return s;
}

// ~ and ~user at the start of an unquoted literal (XCU 2.6.1).
bool expand_tilde(Shell& sh, const WordPart& part, FieldBuilder& out)
{
    if (part.text.empty() || part.text[0] != '~') return false;
    auto slash = part.text.find('/');
    std::string user = part.text.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    std::optional<std::string> home;
    if (user.empty()) {
        home = sh.get("HOME");
    } else if (const passwd* pw = ::getpwnam(user.c_str())) {
        home = pw->pw_dir;
    }
    if (!home) return false;
    out.append(*home, Mark::quoted);
    if (slash != std::string::npos) out.append(std::string_view(part.text).substr(slash), Mark::literal);
    return true;
}

}  // namespace

void expand_parts(Shell& sh, const std::vector<WordPart>& parts, FieldBuilder& out, bool tilde)
{
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const WordPart& part = parts[i];
        switch (part.kind) {
            case PartKind::literal:
                if (i == 0 && tilde && !part.quoted && expand_tilde(sh, part, out)) break;
                out.append(part.text, part.quoted ? Mark::quoted : Mark::literal);
                break;
            case PartKind::param:
                expand_param(sh, part, out);
                break;
            case PartKind::command:
                out.append(sh.command_substitution(*part.program), part.quoted ? Mark::quoted : Mark::splittable);
                break;
            case PartKind::arith:
                out.append(expand_arith(sh, part), part.quoted ? Mark::quoted : Mark::splittable);
                break;
        }
    }
}

std::vector<std::string> expand_fields(Shell& sh, const std::vector<Word>& words)
{
    std::vector<std::string> result;
    std::string ifs = sh.ifs();
    for (const auto& word : words) {
        FieldBuilder builder;
        expand_parts(sh, word.parts, builder, true);
        std::vector<Field> fields;
        for (const auto& f : builder.fields()) split_field(f, ifs, fields);
        for (const auto& f : fields) {
            Pattern p = to_pattern(f);
            if (!sh.options.noglob && has_glob_chars(p)) {
                auto paths = glob_paths(p);
                if (!paths.empty()) {
                    result.insert(result.end(), paths.begin(), paths.end());
                    continue;
                }
            }
            result.push_back(plain_text(f));
        }
    }
    return result;
}

std::string expand_text(Shell& sh, const std::vector<WordPart>& parts)
{
    FieldBuilder builder(true);
    expand_parts(sh, parts, builder, true);
    std::string s;
    for (const auto& f : builder.fields()) s += plain_text(f);
    return s;
}

Pattern expand_pattern(Shell& sh, const std::vector<WordPart>& parts)
{
    FieldBuilder builder(true);
    expand_parts(sh, parts, builder, true);
    Pattern p;
    for (const auto& f : builder.fields()) {
        Pattern q = to_pattern(f);
        p.text += q.text;
        p.quoted.insert(p.quoted.end(), q.quoted.begin(), q.quoted.end());
    }
    return p;
}

}  // namespace fleet::shell
