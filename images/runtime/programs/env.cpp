// env: prints its environment, one NAME=VALUE a line, like /usr/bin/env
// without arguments; with NAME arguments, the value of each (rt::getenv),
// exiting 1 if one is not set.
#include "rt.hpp"

int main(int argc, char** argv, char** envp)
{
    if (argc == 1) {
        for (char** e = envp; e && *e; e++) rt::printf("%s\n", *e);
        return 0;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        const char* v = rt::getenv(argv[i]);
        if (v)
            rt::printf("%s\n", v);
        else
            status = 1;
    }
    return status;
}
