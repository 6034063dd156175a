/*
 * spec/support/cross/mulc3.c - complex multiplication for the soft-float
 * MIPS runtime of spec/support/cross_musl.sh: __muldc3 and __mulsc3, which
 * gcc calls for a complex `*` (musl's cpow does one).  Debian's libgcc for
 * MIPS has them only as hard-float code.  Written from the C standard's
 * Annex G (G.5.1): the plain formula, and where it gives NaN + i NaN
 * although a factor is infinite, the infinity is recovered.
 */
#define MULC3(name, real, complex_type, cs, inf)                                   \
	complex_type name(real a, real b, real c, real d);                         \
	complex_type name(real a, real b, real c, real d)                          \
	{                                                                          \
		real ac = a * c, bd = b * d, ad = a * d, bc = b * c;               \
		real x = ac - bd, y = ad + bc;                                     \
		if (__builtin_isnan(x) && __builtin_isnan(y)) {                   \
			int again = 0;                                             \
			if (__builtin_isinf(a) || __builtin_isinf(b)) {           \
				a = cs(__builtin_isinf(a) ? 1 : 0, a); \
				b = cs(__builtin_isinf(b) ? 1 : 0, b); \
				if (__builtin_isnan(c)) c = cs(0, c); \
				if (__builtin_isnan(d)) d = cs(0, d); \
				again = 1;                                         \
			}                                                          \
			if (__builtin_isinf(c) || __builtin_isinf(d)) {           \
				c = cs(__builtin_isinf(c) ? 1 : 0, c); \
				d = cs(__builtin_isinf(d) ? 1 : 0, d); \
				if (__builtin_isnan(a)) a = cs(0, a); \
				if (__builtin_isnan(b)) b = cs(0, b); \
				again = 1;                                         \
			}                                                          \
			if (!again && (__builtin_isinf(ac) || __builtin_isinf(bd) || \
				       __builtin_isinf(ad) || __builtin_isinf(bc))) { \
				if (__builtin_isnan(a)) a = cs(0, a); \
				if (__builtin_isnan(b)) b = cs(0, b); \
				if (__builtin_isnan(c)) c = cs(0, c); \
				if (__builtin_isnan(d)) d = cs(0, d); \
				again = 1;                                         \
			}                                                          \
			if (again) {                                               \
				x = inf() * (a * c - b * d);             \
				y = inf() * (a * d + b * c);             \
			}                                                          \
		}                                                                  \
		complex_type z;                                                    \
		__real__ z = x;                                                    \
		__imag__ z = y;                                                    \
		return z;                                                          \
	}

MULC3(__muldc3, double, _Complex double, __builtin_copysign, __builtin_inf)
MULC3(__mulsc3, float, _Complex float, __builtin_copysignf, __builtin_inff)
