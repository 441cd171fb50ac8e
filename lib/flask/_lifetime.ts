/**
 * Flask's default `PERMANENT_SESSION_LIFETIME`, shared by the codec (the age it accepts) and
 * the bridge (the `Expires` it writes), which loads the codec only when first needed.
 *
 * @module
 */

/** 31 days, in seconds: Flask's default `PERMANENT_SESSION_LIFETIME`. */
export const PERMANENT_SESSION_LIFETIME = 2_678_400;
