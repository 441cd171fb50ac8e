/** fast-check arbitraries shared by the Flask tests. */

import fc from "fast-check";

/**
 * Any code point, lone surrogates included (Python keeps them too), weighted towards ASCII and
 * the BMP. (fc's "binary" unit takes seconds to set up.)
 */
export const anyChar: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xffff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
).map((c) => String.fromCodePoint(c));
