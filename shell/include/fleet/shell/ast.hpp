// fleet shell — the syntax tree of a shell program (POSIX XCU 2.9/2.10).
//
// The parser builds it, the executor walks it, dump_ast() prints it. Every
// node carries the position (line, column, both from 1) where it starts in
// its source text, so errors can point at it. Words are already split into
// parts (literal text, parameter and command substitutions, arithmetic)
// with a "quoted" flag on each part: expansion never looks at quote
// characters again.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fleet::shell {

// The shell's aliases, NAME -> VALUE (alias, unalias): the parser
// substitutes them in command position.
using Aliases = std::map<std::string, std::string>;

struct Pos {
    int line = 1;
    int column = 1;
};

struct List;
using Program = List;

// ${name OP arg}: which operator, if any.
enum class ParamOp {
    none,                 // $x, ${x}
    length,               // ${#x}
    use_default,          // ${x-w}, ${x:-w}
    assign_default,       // ${x=w}, ${x:=w}
    error_if_unset,       // ${x?w}, ${x:?w}
    use_alternate,        // ${x+w}, ${x:+w}
    remove_small_prefix,  // ${x#p}
    remove_large_prefix,  // ${x##p}
    remove_small_suffix,  // ${x%p}
    remove_large_suffix,  // ${x%%p}
};

enum class PartKind {
    literal,  // text; quoted: from '', "" or \ (no splitting, no globbing)
    param,    // text is the parameter name; op, colon, arg
    command,  // $( ) or ``: program
    arith,    // $(( )): arg is the expression, expanded before evaluation
};

struct WordPart {
    PartKind kind = PartKind::literal;
    Pos pos;
    bool quoted = false;  // inside "" (or, for literals, quoted in any way)
    std::string text;
    ParamOp op = ParamOp::none;
    bool colon = false;  // ${x:-w}: also when x is empty
    std::vector<WordPart> arg;
    std::shared_ptr<Program> program;
    bool backquote = false;
};

struct Word {
    Pos pos;
    std::vector<WordPart> parts;
    std::string raw;  // the source text (jobs and messages show it)
};

// The body of a here-document, filled in by the lexer once it has read the
// lines after the operator's line.
struct HereDoc {
    std::string delimiter;
    bool expand = true;       // delimiter unquoted: $, ` and \ work in the body
    bool strip_tabs = false;  // <<-
    Word body;
};

enum class RedirOp { in, out, append, clobber, dup_in, dup_out, read_write, heredoc };

struct Redirect {
    Pos pos;
    int fd = -1;  // the IO_NUMBER; -1: the operator's default (0 or 1)
    RedirOp op = RedirOp::in;
    Word target;                    // file name, fd number or '-'; delimiter for heredoc
    std::shared_ptr<HereDoc> here;  // heredoc only
};

struct Command;
using CommandPtr = std::shared_ptr<Command>;

// `time [-p] pipeline`: the reserved word of bash and ksh, at a
// pipeline's start only; its real, user and sys times go to stderr.
enum class Timed { no, yes, posix };

struct Pipeline {
    Pos pos;
    bool bang = false;  // ! pipeline
    Timed timed = Timed::no;
    std::vector<CommandPtr> commands;  // empty only for a bare `time`
};

enum class AndOrOp { and_if, or_if };

struct AndOr {
    Pos pos;
    std::vector<Pipeline> pipelines;  // pipelines[i+1] runs after ops[i]
    std::vector<AndOrOp> ops;
};

struct ListItem {
    AndOr and_or;
    bool async = false;  // ended by &
};

struct List {
    Pos pos;
    std::vector<ListItem> items;
};

struct Assignment {
    Pos pos;
    std::string name;
    Word value;
};

struct SimpleCommand {
    std::vector<Assignment> assignments;
    std::vector<Word> words;  // command name and arguments
};

struct BraceGroup {
    List body;
};

struct Subshell {
    List body;
};

struct IfBranch {
    List condition;
    List body;
};

struct IfClause {
    std::vector<IfBranch> branches;  // if, then the elifs
    std::optional<List> else_body;
};

struct LoopClause {
    bool until = false;
    List condition;
    List body;
};

struct ForClause {
    std::string name;
    bool has_in = false;  // without `in`, the positional parameters
    std::vector<Word> words;
    List body;
};

struct CaseItem {
    Pos pos;
    std::vector<Word> patterns;
    List body;
};

struct CaseClause {
    Word subject;
    std::vector<CaseItem> items;
};

struct FunctionDef {
    std::string name;
    CommandPtr body;  // a compound command
};

using CommandNode =
    std::variant<SimpleCommand, BraceGroup, Subshell, IfClause, LoopClause, ForClause, CaseClause, FunctionDef>;

struct Command {
    Pos pos;
    CommandNode node;
    std::vector<Redirect> redirects;
};

}  // namespace fleet::shell
