// fleet — accelerator probe (see accel.hpp).
#include <fleet/vmm/accel.hpp>

#include <fleet/base/fd.hpp>

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdlib>

namespace fleet::vmm {

Result<> probe_kvm()
{
    const char* dev = std::getenv("FLEET_KVM_DEVICE");  // tests point this elsewhere
    std::string path = dev ? dev : "/dev/kvm";
    Fd kvm(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!kvm) return fail_errno("KVM is not usable (" + path + ")");
    int version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) return fail("KVM is not usable (" + path + " speaks an unknown API version)");
    Fd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0));
    if (!vm) return fail_errno("KVM is not usable (it refused to create a VM)");
    return {};
}

Result<Accel> resolve_accel(Accel requested)
{
    if (requested == Accel::tcg) return Accel::tcg;
    auto kvm = probe_kvm();
    if (kvm) return Accel::kvm;
    if (requested == Accel::automatic) return Accel::tcg;
    return fail(kvm.error().what() + "; use --accel tcg (or FLEET_ACCEL=tcg)");
}

}  // namespace fleet::vmm
