// fleet — choosing the accelerator.
#pragma once

#include <fleet/vmm/spec.hpp>

#include <string>

namespace fleet::vmm {

// Can this process use KVM? An error says why not (missing device, no
// permission, refused VM creation).
Result<> probe_kvm();

// auto -> kvm when probe_kvm() succeeds, else tcg. kvm when KVM is not
// usable is an error naming the fix. The result is never automatic.
Result<Accel> resolve_accel(Accel requested);

}  // namespace fleet::vmm
