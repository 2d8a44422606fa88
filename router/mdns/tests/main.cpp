// router-mdns-unit: the Catch2 main for every *_test.cpp in this folder.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
