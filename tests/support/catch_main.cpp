// The one Catch2 main every unit-test executable links with.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
