// fleet shell — the syntax tree as text (`fsh --dump-ast`).
//
// One node a line, indented two spaces a level: the node's kind, its
// position LINE:COLUMN, then its details. Literal text is printed in
// double quotes with \n, \t, \\, \" and \xNN escapes, so the output is one
// line per node whatever the input.
#pragma once

#include <fleet/shell/ast.hpp>

#include <string>

namespace fleet::shell {

std::string dump_ast(const Program& program);

}  // namespace fleet::shell
