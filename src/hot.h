/*
 * hot.h - HOT marks a small function on the path that every log line or
 * packet takes: always inlined when optimising for speed.  Under -Os
 * (OpenWrt's packages, `make cross`) the compiler chooses: the module must
 * fit its flash budget.
 */
#ifndef DNSAGG_HOT_H
#define DNSAGG_HOT_H

#ifdef __OPTIMIZE_SIZE__
#define HOT static inline
#else
#define HOT static inline __attribute__((always_inline))
#endif

#endif
