// fleet Linux guest init: network interfaces from the kernel command line
// (FLEET_CMDLINE_NET, <fleet/abi/guest.h>). See net.c.
#pragma once

#include <stdbool.h>

// Configure every fleet.netN= word: find the interface by its MAC (waiting
// up to wait_ms for it to appear), set its IPv4 address and default route,
// bring it and lo up. Returns NULL, or a message saying what failed.
const char* configure_nets(char* const* words, int nwords, int wait_ms);

// Does the command line name any interface (modules to load first)?
bool nets_wanted(char* const* words, int nwords);
