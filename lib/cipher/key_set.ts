/**
 * The XAES-256-GCM keys of one configuration, prepared once over the backend chosen once, and
 * HKDF over the same backend: the one place that tells `node:crypto` from Web Crypto. Over
 * `node:crypto` every key answers at once; over Web Crypto with promises. On Deno 2.9 and later,
 * where the first touch of a Node built-in loads Deno's whole Node layer (tens of
 * milliseconds), an `auto` set starts on Web Crypto and moves every key to `node:crypto` in the
 * background, {@linkcode SWITCH_DELAY_MS} after its first message: the same bytes either way.
 *
 * @module
 */

import { errorSummary } from "../common/errors.ts";
import { nodeCrypto, nodeCryptoIsCheap } from "./node_crypto.ts";
import type { XaesBackend } from "./one_shot.ts";
import type { XaesKey } from "./xaes_key.ts";
import { prepareNodeKey } from "./xaes_node.ts";
import { prepareWebKey } from "./xaes_web.ts";
import { unrefDelay } from "../common/unref_delay.ts";

/**
 * How long after its first message an `auto` set started on Web Crypto moves to `node:crypto`:
 * long enough for a server to answer its first requests without loading Node's layer.
 */
export const SWITCH_DELAY_MS = 50;

/** The prepared keys of one configuration. */
export interface XaesKeySet {
  /**
   * True while every key answers at once (`node:crypto`). An `auto` set started on Web Crypto
   * turns true when it moves, never back.
   */
  readonly sync: boolean;
  /** The keys, at the positions of the raw keys they were prepared from. */
  readonly keys: readonly XaesKey[];
  /**
   * Call before a message while set: the first message of a set started on Web Crypto
   * schedules its move to `node:crypto`, and clears this.
   */
  readonly firstUse: (() => void) | undefined;
}

/**
 * Prepares keys for many messages: `node:crypto` where it is (and cheap to load, for `auto`),
 * else Web Crypto. The raw keys may be wiped once this resolves.
 *
 * @param raw The 32-byte keys.
 * @param backend Which implementation: `auto` picks as above.
 * @default {"auto"}
 * @returns The key set.
 * @throws {Error} When `backend` is `node` and there is no `node:crypto`.
 *
 * @example Two keys, and the backend they run on
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareXaesKeys } from "./key_set.ts";
 *
 * const raw = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
 * const web = await prepareXaesKeys(raw, "webcrypto");
 * assert.equal(web.sync, false);
 * const node = await prepareXaesKeys(raw, "node");
 * assert.equal(node.sync, true);
 * const aad = new Uint8Array(0);
 * const sealed = await web.keys[1]!.seal(new TextEncoder().encode("hi"), aad);
 * const opened = node.keys[1]!.open(sealed.subarray(0, 24), sealed.subarray(24), aad);
 * assert.equal(new TextDecoder().decode(opened as Uint8Array), "hi");
 * ```
 */
export async function prepareXaesKeys(
  raw: readonly Uint8Array[],
  backend: XaesBackend = "auto",
): Promise<XaesKeySet> {
  if (backend === "auto" && !nodeCryptoIsCheap()) {
    const kept = raw.map((key) => key.slice());
    return startOnWebCrypto(await webKeys(raw), () => {
      try {
        const node = nodeCrypto();
        return node && fixed(kept.map((key) => prepareNodeKey(node, key)), true);
      } finally {
        for (const key of kept) key.fill(0);
      }
    });
  }
  const node = backend === "webcrypto" ? undefined : nodeCrypto();
  if (node) return fixed(raw.map((key) => prepareNodeKey(node, key)), true);
  if (backend === "node") {
    throw new Error("Cannot use the node backend: node:crypto is not available in this runtime");
  }
  return await webKeys(raw);
}

/**
 * HKDF-SHA256 (RFC 5869), over `node:crypto` when it is cheap to reach, else Web Crypto: the
 * same bytes either way.
 *
 * @param ikm The input key material (a secret).
 * @param salt The salt.
 * @param info What the output is for.
 * @param length Bytes of output.
 * @returns The output.
 *
 * @example The first bytes of RFC 5869's test case 3 (no salt, no info)
 * ```ts
 * import assert from "node:assert/strict";
 * import { hkdfSha256 } from "./key_set.ts";
 *
 * const okm = await hkdfSha256(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 4);
 * assert.deepEqual([...okm], [0x8d, 0xa4, 0xe7, 0x75]);
 * ```
 */
export async function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  const node = nodeCryptoIsCheap() ? nodeCrypto() : undefined;
  if (node) return new Uint8Array(node.hkdfSync("sha256", ikm, salt, info, length));
  const base = await crypto.subtle.importKey(
    "raw",
    ikm as Uint8Array<ArrayBuffer>,
    "HKDF",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: salt as Uint8Array<ArrayBuffer>,
      info: info as Uint8Array<ArrayBuffer>,
    },
    base,
    length * 8,
  );
  return new Uint8Array(bits);
}

function fixed(keys: readonly XaesKey[], sync: boolean): XaesKeySet {
  return { sync, keys, firstUse: undefined };
}

async function webKeys(raw: readonly Uint8Array[]): Promise<XaesKeySet> {
  return fixed(await Promise.all(raw.map((key) => prepareWebKey(key))), false);
}

/**
 * Keys that answer on Web Crypto until shortly after their first message, then on the keys
 * `loadNode` makes (over `node:crypto`), replaced by reference: a key taken before the move
 * finishes its message as it began it. If `loadNode` finds no `node:crypto` or throws (logged
 * once), the keys stay on Web Crypto.
 *
 * @param web The keys over Web Crypto.
 * @param loadNode Makes the same keys over `node:crypto`; called once, from a timer.
 * @returns The key set.
 *
 * @example Moving after the first message
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareXaesKeys, startOnWebCrypto, SWITCH_DELAY_MS } from "./key_set.ts";
 *
 * const raw = [new Uint8Array(32).fill(7)];
 * const [web, node] = [await prepareXaesKeys(raw, "webcrypto"), await prepareXaesKeys(raw, "node")];
 * const keys = startOnWebCrypto(web, () => node);
 * assert.equal(keys.keys[0], web.keys[0]);
 * keys.firstUse?.(); // the first message schedules the move
 * await new Promise((resolve) => setTimeout(resolve, SWITCH_DELAY_MS + 30));
 * assert.equal(keys.sync, true);
 * assert.equal(keys.keys[0], node.keys[0]);
 * ```
 */
export function startOnWebCrypto(
  web: XaesKeySet,
  loadNode: () => XaesKeySet | undefined,
): XaesKeySet {
  return new SwitchingKeys(web, loadNode);
}

class SwitchingKeys implements XaesKeySet {
  sync: boolean;
  keys: readonly XaesKey[];
  firstUse: (() => void) | undefined;

  constructor(web: XaesKeySet, loadNode: () => XaesKeySet | undefined) {
    this.sync = web.sync;
    this.keys = web.keys;
    this.firstUse = () => {
      this.firstUse = undefined;
      // Never holds the process open: a script that seals once and ends is not kept waiting.
      void unrefDelay(SWITCH_DELAY_MS).then(() => {
        try {
          const node = loadNode();
          // Replaced by reference: a key taken before finishes its message as it began it.
          if (node) [this.keys, this.sync] = [node.keys, node.sync];
        } catch (error) {
          // Runs from a timer: a throw here would end the process.
          console.error(
            `sealed-sessions: node:crypto refused the keys (${
              errorSummary(error)
            }); staying on Web Crypto`,
          );
        }
      });
    };
  }
}
