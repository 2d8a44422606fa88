// fleet — remote_typed_param on the wire: a field name, then a union whose
// int discriminator (virTypedParameterType) says which arm follows.
#include <fleet/wire/stats_messages.hpp>

namespace fleet::wire {

void encode(XdrWriter& w, const TypedParam& v)
{
    w.put_string(v.field, remote_string_max);
    w.put_i32(v.type);
    switch (v.type) {
        case typed_param::int32:
        case typed_param::uint32:
        case typed_param::boolean:
            return w.put_u32(static_cast<std::uint32_t>(v.bits));
        case typed_param::int64:
        case typed_param::uint64:
            return w.put_u64(v.bits);
        case typed_param::dbl:
            return w.put_double(v.dbl);
        case typed_param::string:
            return w.put_string(v.str, remote_string_max);
        default:
            w.set_error("XDR: typed parameter '" + v.field + "' has unknown type " + std::to_string(v.type));
    }
}

Result<> decode_into(XdrReader& r, TypedParam& v)
{
    auto field = r.string(remote_string_max);
    if (!field) return std::unexpected(field.error());
    v.field = std::move(*field);
    auto type = r.i32();
    if (!type) return std::unexpected(type.error());
    v.type = *type;
    switch (v.type) {
        case typed_param::int32:
        case typed_param::uint32:
        case typed_param::boolean: {
            auto x = r.u32();
            if (!x) return std::unexpected(x.error());
            v.bits = *x;
            return {};
        }
        case typed_param::int64:
        case typed_param::uint64: {
            auto x = r.u64();
            if (!x) return std::unexpected(x.error());
            v.bits = *x;
            return {};
        }
        case typed_param::dbl: {
            auto x = r.f64();
            if (!x) return std::unexpected(x.error());
            v.dbl = *x;
            return {};
        }
        case typed_param::string: {
            auto x = r.string(remote_string_max);
            if (!x) return std::unexpected(x.error());
            v.str = std::move(*x);
            return {};
        }
        default:
            return r.error("typed parameter '" + v.field + "' of unknown type " + std::to_string(v.type));
    }
}

}  // namespace fleet::wire
