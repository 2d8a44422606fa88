// fleet-router — the process title of forked supervisors (process_title.hpp).
#include <fleet/router/process_title.hpp>

#include <sys/prctl.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace fleet::router {

namespace {
char* title_area = nullptr;
std::size_t title_size = 0;
}  // namespace

void init_process_title(int argc, char** argv)
{
    if (argc <= 0) return;
    title_area = argv[0];
    title_size = static_cast<std::size_t>(argv[argc - 1] + std::strlen(argv[argc - 1]) - argv[0]) + 1;
}

void set_process_title(const std::string& title)
{
    if (!title_area || title_size == 0) return;
    std::size_t n = std::min(title.size(), title_size - 1);
    std::memcpy(title_area, title.data(), n);
    std::memset(title_area + n, 0, title_size - n);
    ::prctl(PR_SET_NAME, title.substr(title.rfind(' ') + 1).substr(0, 15).c_str());
}

}  // namespace fleet::router
