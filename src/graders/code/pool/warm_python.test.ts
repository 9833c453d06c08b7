/**
 * The warm pool's tests (warm.test.ts) again, with the slots' Python forker instead of the compiled
 * one (native.ts): `REWARDKIT_POOL_NATIVE=0`, the fallback when no C compiler is found. (Each test
 * file runs in a process of its own: the setting stays in this one.)
 */
process.env.REWARDKIT_POOL_NATIVE = '0';
await import('./warm.test.js');
