/**
 * Each subject's list of signed-in sessions on Redis (`redisRevocation()`): ending a session by
 * its handle.
 */

import assert from "node:assert/strict";
import { redisRevocation } from "../lib/redis/mod.ts";

const newId = () => crypto.getRandomValues(new Uint8Array(16));

Deno.test("isRevoked() reads whether a session's handle was ended in the same MGET", async () => {
  const sent: string[][] = [];
  const client = {
    sendCommand: (args: string[]) => {
      sent.push(args);
      return Promise.resolve(args.slice(1).map((key) => key.includes(":handle:") ? "1" : null));
    },
  };
  const revocation = redisRevocation(client, { cacheMs: 60_000 });
  assert.equal(await revocation.isRevoked(newId(), 1_700_000_000, "ada", "0123456789abcdef"), true);
  assert.equal(
    await revocation.isRevoked(newId(), 1_700_000_000, undefined, "fedcba9876543210"),
    true,
  );
  assert.equal(await revocation.isRevoked(newId(), 1_700_000_000, "ada"), false);
  assert.deepEqual(sent.map((args) => args.slice(2)), [
    [
      "sealed-sessions:revoked:all-before",
      "sealed-sessions:revoked:subject:ada",
      "sealed-sessions:revoked:handle:0123456789abcdef",
    ],
    ["sealed-sessions:revoked:all-before", "sealed-sessions:revoked:handle:fedcba9876543210"],
    ["sealed-sessions:revoked:all-before", "sealed-sessions:revoked:subject:ada"],
  ]);
});
