// fleet — helpers for the shared structs (types.hpp).
#include <fleet/wire/types.hpp>

namespace fleet::wire {

RemoteError make_error(std::int32_t code, std::int32_t domain, std::string message)
{
    RemoteError e;
    e.code = code;
    e.domain = domain;
    e.level = errlevel::error;
    e.str1 = message;
    e.message = std::move(message);
    e.int1 = -1;
    e.int2 = -1;
    return e;
}

RemoteError unknown_procedure_error(std::int32_t proc)
{
    return make_error(err::rpc, errdom::rpc, "unknown procedure: " + std::to_string(proc));
}

}  // namespace fleet::wire
