// router-missing-handler — this file must NOT compile: it serves the
// `queries` group of wire/procedures.def without defining its handlers, and
// the dispatch (router/src/libvirt/dispatch.hpp) refuses a row without its
// function. missing_handler_test.py compiles it and checks the message.
#include "libvirt/dispatch.hpp"  // private: router/src

namespace fleet::router::libvirt {

FLEET_SERVE_GROUP(queries)

}  // namespace fleet::router::libvirt
