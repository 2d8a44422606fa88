// fleet shell — fuzz target for the lexer and parser (libFuzzer entry point).
//
// The input is a script, which fsh takes from anyone (a file, -c, eval).
// Tokenizing and parsing may refuse it, never crash, hang or read out of
// bounds; an error names a position inside the text; whatever parses also
// dumps, and parsing it one command at a time agrees with parsing it whole;
// parsed again with aliases to substitute, it is refused or parsed.
#include <fleet/shell/dump.hpp>
#include <fleet/shell/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace fleet::shell;

namespace {

[[noreturn]] void die(const char* what, const std::string& text)
{
    std::fprintf(stderr, "parser-fuzzer: %s\n%s\n", what, text.c_str());
    std::abort();
}

int lines(const std::string& s)
{
    int n = 1;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto tokens = tokenize(input);
    auto program = parse(input);
    if (!program) {
        const auto& e = program.error();
        if (e.message.empty()) die("an error without a message", input);
        if (e.pos.line < 1 || e.pos.line > lines(input) || e.pos.column < 1) die("an error outside the text", input);
        return 0;
    }
    if (dump_ast(*program).empty()) die("an empty dump", input);
    Parser parser(input);
    std::size_t items = 0;
    for (;;) {
        auto command = parser.next_command();
        if (!command) die("parses whole but not one command at a time", input);
        if (!*command) break;
        items += (*command)->items.size();
    }
    if (items != program->items.size()) die("one command at a time gives other items", input);
    // The same text with aliases to substitute: ones that refer to each
    // other, to themselves, end in a blank, hold operators, a $( ) and an
    // open quote. Refused or parsed, never a crash or an endless expansion.
    static const Aliases aliases = {{"a", "b c"},        {"b", "a "},   {"c", "c c"},      {"e", "echo "},
                                    {"p", "x | y; z &"}, {"s", "$(a)"}, {"q", "echo 'it"}, {"n", ""},
                                    {"i", "if"},         {"f", "fi"},   {"h", "cat <<E"}};
    Parser with_aliases(input, &aliases);
    for (int i = 0; i < 10000; ++i) {
        auto command = with_aliases.next_command();
        if (!command) {
            if (command.error().message.empty()) die("an alias error without a message", input);
            break;
        }
        if (!*command) break;
    }
    return 0;
}
