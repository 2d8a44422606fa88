// fleet Linux guest init: network interfaces from the exec block
// (<fleet/abi/guest.h>). See net.c.
#pragma once

// Configure interface i from nets[i] ("MAC[,A.B.C.D/P[,GW]]"), i < n: find
// it by its MAC (waiting up to wait_ms for it to appear), or by the MAC a
// snapshot was made with and then give it its own; set its IPv4 address
// and default route, bring it and lo up. Returns NULL, or a message saying
// what failed.
const char* configure_nets(char* const* nets, int n, int wait_ms);
