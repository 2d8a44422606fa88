// fleet shell — `getopts OPTSTRING NAME [ARG...]`: the next option of the
// arguments (the positional parameters when none are given), as POSIX
// says. OPTIND is the index of the next argument; within a word of several
// options (-ac) the position is the shell's own, kept while OPTIND stays
// what getopts last set (OPTIND=1 starts over). As dash, OPTIND moves past
// a word as soon as its first option is read.
#include "builtins.hpp"

#include "grammar.hpp"

namespace fleet::shell {

int builtin_getopts(Shell& sh, Args& args)
{
    if (args.size() < 3) return usage_error(sh, args, "usage: getopts OPTSTRING NAME [ARG...]");
    const std::string& spec = args[1];
    const std::string& name = args[2];
    if (!is_name(name)) return usage_error(sh, args, name + ": bad variable name");
    std::vector<std::string> list =
        args.size() > 3 ? std::vector<std::string>(args.begin() + 3, args.end()) : sh.positional;
    const bool silent = !spec.empty() && spec[0] == ':';

    std::string optind_text = sh.get("OPTIND").value_or("1");
    auto& st = sh.getopts_state;
    if (optind_text != st.optind_set) st.pos = 0;  // set by the script: start over there
    long optind = parse_number(optind_text).value_or(1);
    if (st.restart) {
        optind = 1;
        st.pos = 0;
        st.restart = false;
    }
    if (optind < 1) optind = 1;
    auto finish = [&](std::string value, int status) {
        const auto kept = st;  // setting OPTIND clears the state: getopts's own setting keeps it
        if (!sh.set("OPTIND", std::to_string(optind))) return 2;
        st = kept;
        st.optind_set = std::to_string(optind);
        if (!sh.set(name, std::move(value))) return 2;
        return status;
    };
    std::size_t n = list.size();
    // Mid-word only while that word is still there and long enough (set --
    // may have changed the arguments since): else a new word at OPTIND.
    if (st.pos != 0 && (optind < 2 || static_cast<std::size_t>(optind) - 2 >= n ||
                        st.pos >= list[static_cast<std::size_t>(optind) - 2].size()))
        st.pos = 0;
    if (st.pos == 0) {
        if (static_cast<std::size_t>(optind) > n) return finish("?", 1);
        const std::string& a = list[static_cast<std::size_t>(optind) - 1];
        if (a == "--") {
            ++optind;
            return finish("?", 1);
        }
        if (a.size() < 2 || a[0] != '-') return finish("?", 1);
        st.pos = 1;
        ++optind;
    }
    const std::string& word = list[static_cast<std::size_t>(optind) - 2];
    char c = word[st.pos++];
    if (st.pos >= word.size()) st.pos = 0;
    std::string opt(1, c);
    auto at = c == ':' ? std::string::npos : spec.find(c);
    if (at == std::string::npos) {
        if (silent) {
            if (!sh.set("OPTARG", opt)) return 2;
        } else {
            sh.unset("OPTARG");
            sh.error("getopts: illegal option -- " + opt);
        }
        return finish("?", 0);
    }
    if (at + 1 >= spec.size() || spec[at + 1] != ':') {
        sh.unset("OPTARG");
        return finish(opt, 0);
    }
    std::string value;
    if (st.pos != 0) {  // the rest of the word: -bvalue
        value = word.substr(st.pos);
        st.pos = 0;
    } else if (static_cast<std::size_t>(optind) <= n) {
        value = list[static_cast<std::size_t>(optind) - 1];
        ++optind;
    } else {
        if (silent) {
            if (!sh.set("OPTARG", opt)) return 2;
            return finish(":", 0);
        }
        sh.unset("OPTARG");
        sh.error("getopts: option requires an argument -- " + opt);
        return finish("?", 0);
    }
    if (!sh.set("OPTARG", value)) return 2;
    return finish(opt, 0);
}

}  // namespace fleet::shell
