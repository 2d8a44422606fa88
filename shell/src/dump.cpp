// fleet shell — printing the syntax tree (dump.hpp describes the format).
#include <fleet/shell/dump.hpp>

#include <cstdio>

namespace fleet::shell {
namespace {

const char* op_name(ParamOp op)
{
    switch (op) {
        case ParamOp::none:
            return "";
        case ParamOp::length:
            return " #";
        case ParamOp::use_default:
            return " -";
        case ParamOp::assign_default:
            return " =";
        case ParamOp::error_if_unset:
            return " ?";
        case ParamOp::use_alternate:
            return " +";
        case ParamOp::remove_small_prefix:
            return " #";
        case ParamOp::remove_large_prefix:
            return " ##";
        case ParamOp::remove_small_suffix:
            return " %";
        case ParamOp::remove_large_suffix:
            return " %%";
    }
    return "";
}

const char* redir_name(RedirOp op)
{
    switch (op) {
        case RedirOp::in:
            return "<";
        case RedirOp::out:
            return ">";
        case RedirOp::append:
            return ">>";
        case RedirOp::clobber:
            return ">|";
        case RedirOp::dup_in:
            return "<&";
        case RedirOp::dup_out:
            return ">&";
        case RedirOp::read_write:
            return "<>";
        case RedirOp::heredoc:
            return "<<";
    }
    return "?";
}

std::string quote(const std::string& s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\' || c == '"') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

class Dumper {
public:
    std::string out;

    void list(const List& l, int depth, const char* name = "list")
    {
        line(depth, name, l.pos);
        for (const auto& item : l.items) and_or(item.and_or, depth + 1, item.async);
    }

private:
    void line(int depth, const std::string& what, Pos pos, const std::string& detail = {})
    {
        out.append(static_cast<std::size_t>(depth) * 2, ' ');
        out += what + " " + std::to_string(pos.line) + ":" + std::to_string(pos.column);
        if (!detail.empty()) out += " " + detail;
        out += "\n";
    }

    void and_or(const AndOr& a, int depth, bool async)
    {
        line(depth, "and_or", a.pos, async ? "&" : "");
        for (std::size_t i = 0; i < a.pipelines.size(); ++i) {
            if (i > 0) line(depth + 1, a.ops[i - 1] == AndOrOp::and_if ? "&&" : "||", a.pipelines[i].pos);
            pipeline(a.pipelines[i], depth + 1);
        }
    }

    void pipeline(const Pipeline& p, int depth)
    {
        std::string marks = p.timed == Timed::posix ? "time -p" : p.timed == Timed::yes ? "time" : "";
        if (p.bang) marks += marks.empty() ? "!" : " !";
        line(depth, "pipeline", p.pos, marks);
        for (const auto& c : p.commands) command(*c, depth + 1);
    }

    void part(const WordPart& p, int depth)
    {
        std::string q = p.quoted ? "quoted " : "";
        switch (p.kind) {
            case PartKind::literal:
                line(depth, "literal", p.pos, q + quote(p.text));
                break;
            case PartKind::param:
                line(depth, "param", p.pos, q + p.text + (p.colon ? " :" : "") + op_name(p.op));
                for (const auto& a : p.arg) part(a, depth + 1);
                break;
            case PartKind::arith:
                line(depth, "arith", p.pos, q);
                for (const auto& a : p.arg) part(a, depth + 1);
                break;
            case PartKind::command:
                line(depth, p.backquote ? "backquote" : "command", p.pos, q);
                list(*p.program, depth + 1);
                break;
        }
    }

    void word(const Word& w, int depth, const char* name = "word")
    {
        line(depth, name, w.pos);
        for (const auto& p : w.parts) part(p, depth + 1);
    }

    void redirect(const Redirect& r, int depth)
    {
        std::string detail = (r.fd >= 0 ? std::to_string(r.fd) : std::string()) + redir_name(r.op);
        if (r.here) detail += (r.here->strip_tabs ? "- " : " ") + quote(r.here->delimiter);
        line(depth, "redirect", r.pos, detail);
        if (!r.here) {
            word(r.target, depth + 1);
        } else {
            word(r.here->body, depth + 1, r.here->expand ? "body" : "body quoted");
        }
    }

    void node(const SimpleCommand& s, Pos pos, int depth)
    {
        line(depth, "simple", pos);
        for (const auto& a : s.assignments) {
            line(depth + 1, "assign", a.pos, a.name);
            for (const auto& p : a.value.parts) part(p, depth + 2);
        }
        for (const auto& w : s.words) word(w, depth + 1);
    }
    void node(const BraceGroup& g, Pos pos, int depth)
    {
        line(depth, "brace_group", pos);
        list(g.body, depth + 1);
    }
    void node(const Subshell& g, Pos pos, int depth)
    {
        line(depth, "subshell", pos);
        list(g.body, depth + 1);
    }
    void node(const IfClause& c, Pos pos, int depth)
    {
        line(depth, "if", pos);
        for (const auto& b : c.branches) {
            list(b.condition, depth + 1, "condition");
            list(b.body, depth + 1, "then");
        }
        if (c.else_body) list(*c.else_body, depth + 1, "else");
    }
    void node(const LoopClause& c, Pos pos, int depth)
    {
        line(depth, c.until ? "until" : "while", pos);
        list(c.condition, depth + 1, "condition");
        list(c.body, depth + 1, "do");
    }
    void node(const ForClause& c, Pos pos, int depth)
    {
        line(depth, "for", pos, c.name + (c.has_in ? " in" : ""));
        for (const auto& w : c.words) word(w, depth + 1);
        list(c.body, depth + 1, "do");
    }
    void node(const CaseClause& c, Pos pos, int depth)
    {
        line(depth, "case", pos);
        word(c.subject, depth + 1);
        for (const auto& item : c.items) {
            line(depth + 1, "item", item.pos);
            for (const auto& p : item.patterns) word(p, depth + 2, "pattern");
            list(item.body, depth + 2);
        }
    }
    void node(const FunctionDef& f, Pos pos, int depth)
    {
        line(depth, "function", pos, f.name);
        command(*f.body, depth + 1);
    }

    void command(const Command& c, int depth)
    {
        std::visit([&](const auto& n) { node(n, c.pos, depth); }, c.node);
        for (const auto& r : c.redirects) redirect(r, depth + 1);
    }
};

}  // namespace

std::string dump_ast(const Program& program)
{
    Dumper d;
    d.list(program, 0, "program");
    return d.out;
}

}  // namespace fleet::shell
