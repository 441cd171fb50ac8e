/**
 * The start-up switch of `auto` keyrings where loading `node:crypto` is costly (Deno 2.9+, where
 * the first use of a Node built-in loads them all, tens of milliseconds: more than a bare Hono
 * app takes to start). Such a keyring answers on Web Crypto at first; shortly after its first
 * message, in the background, `node:crypto` is loaded and a keyring over it (same keys, same
 * bytes) replaces the Web Crypto one, by reference: nothing is changed in place, so a message
 * in flight finishes on the key it began with, and nothing sealed before the switch changes.
 *
 * @module
 */

import { errorSummary } from "./errors.ts";
import type { Keyring, SealKey } from "./keys.ts";
import { unrefDelay } from "./unref_delay.ts";

/**
 * How long after a keyring's first message the switch happens: long enough for the first
 * response to leave, since loading `node:crypto` blocks the isolate.
 */
export const SWITCH_DELAY_MS = 50;

/**
 * A keyring that starts on `web` and moves to what `loadNode` builds, once, from a timer set
 * by its first message. The timer never keeps a process alive. `loadNode` answers `undefined`
 * where `node:crypto` turns out to be missing, and the keyring stays on Web Crypto; should it
 * throw, the keyring stays on Web Crypto too, and the error is logged (once: the switch is
 * never tried again).
 *
 * @param web The keyring over Web Crypto, used until the switch.
 * @param loadNode Loads `node:crypto` and builds the same keys over it; called once, from the
 * timer. It owns the raw keys and wipes them, whatever it answers.
 * @returns The keyring.
 *
 * @example Moving to another keyring after the first message
 * ```ts
 * import assert from "node:assert/strict";
 * import { startOnWebCrypto, SWITCH_DELAY_MS } from "./keyring_switch.ts";
 * import type { Keyring } from "./keys.ts";
 *
 * const ring = (sync: boolean): Keyring => ({
 *   sync,
 *   sealingKey: () => ({ id: new Uint8Array(4), idNumber: 0, xaes: {} as never }),
 *   find: () => undefined,
 * });
 * const switching = startOnWebCrypto(ring(false), () => ring(true));
 * assert.equal(switching.sync, false);
 * switching.sealingKey(); // the first message sets the timer
 * await new Promise((resolve) => setTimeout(resolve, SWITCH_DELAY_MS + 20));
 * assert.equal(switching.sync, true);
 * ```
 */
export function startOnWebCrypto(web: Keyring, loadNode: () => Keyring | undefined): Keyring {
  return new SwitchingKeyring(web, loadNode);
}

class SwitchingKeyring implements Keyring {
  /** The keyring that answers now. */
  #current: Keyring;
  /** The switch still to schedule; undefined once the first message has scheduled it. */
  #pending: (() => Keyring | undefined) | undefined;

  constructor(web: Keyring, loadNode: () => Keyring | undefined) {
    this.#current = web;
    this.#pending = loadNode;
  }

  get sync(): boolean {
    return this.#current.sync;
  }

  sealingKey(): SealKey {
    if (this.#pending) this.#schedule();
    return this.#current.sealingKey();
  }

  find(idNumber: number): { key: SealKey; index: number } | undefined {
    if (this.#pending) this.#schedule();
    return this.#current.find(idNumber);
  }

  #schedule(): void {
    const loadNode = this.#pending!;
    this.#pending = undefined;
    // Never what keeps a process (or a test) alive.
    void unrefDelay(SWITCH_DELAY_MS).then(() => this.#switch(loadNode));
  }

  #switch(loadNode: () => Keyring | undefined): void {
    try {
      const node = loadNode();
      if (node) this.#current = node;
    } catch (error) {
      // Runs from a timer: a throw here would end the process.
      console.error(
        `sealed-sessions: node:crypto refused the keys (${
          errorSummary(error)
        }); staying on Web Crypto`,
      );
    }
  }
}
