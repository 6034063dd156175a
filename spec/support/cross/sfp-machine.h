/*
 * spec/support/cross/sfp-machine.h - lets glibc's soft-fp routines (soft-fp/
 * of Debian's glibc source package) build outside glibc, for the soft-float
 * MIPS runtime of spec/support/cross_musl.sh.  Only the definitions soft-fp
 * takes from glibc's own headers are given here; the machine's part is
 * glibc's sysdeps/mips/mips32/sfp-machine.h, included as it is.
 */
#include <mips32/sfp-machine.h>

#define __LITTLE_ENDIAN 1234
#define __BIG_ENDIAN 4321
#if defined(__MIPSEB__)
#define __BYTE_ORDER __BIG_ENDIAN
#elif defined(__MIPSEL__)
#define __BYTE_ORDER __LITTLE_ENDIAN
#else
#error "neither __MIPSEB__ nor __MIPSEL__"
#endif

/* __eqdf2 is also __nedf2, __gedf2 also __gtdf2, and so on */
#define strong_alias(name, aliasname) \
	extern __typeof(name) aliasname __attribute__((alias(#name)));

/* soft-float: no FPU, so no rounding modes but the default and no exception
 * flags (musl's mips-sf fenv says the same) */
#ifndef __mips_soft_float
#error "for -msoft-float only"
#endif
