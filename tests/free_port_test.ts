/**
 * The port helper of the tests (`tests/_server.ts`): ports outside the kernel's ephemeral range,
 * free when chosen, that no client can be given as its own, and servers moved to another port
 * when theirs was taken.
 */

import assert from "node:assert/strict";
import { ephemeralPorts, freePort, startOnFreePort } from "./_server.ts";

/** The range as the kernel states it, where it does; the helper's fallback elsewhere. */
function kernelRange(): { low: number; high: number } {
  try {
    const text = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const [low, high] = text.trim().split(/\s+/).map(Number);
    return { low: low!, high: high! };
  } catch {
    return ephemeralPorts();
  }
}

Deno.test("ephemeralPorts() is the kernel's ip_local_port_range", () => {
  assert.deepEqual(ephemeralPorts(), kernelRange());
});

Deno.test("freePort() chooses unprivileged ports outside the ephemeral range, free to bind", () => {
  const { low, high } = kernelRange();
  const ports = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const port = freePort();
    assert.ok(port >= 1024 && port <= 65535, `port ${port}`);
    assert.ok(port < low || port > high, `port ${port} is in the ephemeral range ${low}-${high}`);
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    ports.add(port);
  }
  // At random, so that concurrent test runs do not all draw the same ones.
  assert.ok(ports.size > 150, `${ports.size} different ports in 200`);
});

Deno.test("a client connecting again and again to a port of freePort() never connects to itself", async () => {
  // Nothing listens on the port, so every attempt must be refused. A port of the ephemeral
  // range could be given to one of these clients as its own local port: that client would be
  // connected to itself, and hold the port. As many attempts as the range has ports.
  const { low, high } = kernelRange();
  const port = freePort();
  for (let attempt = 0; attempt <= high - low; attempt++) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionRefused) continue;
      throw error;
    }
    const local = conn.localAddr.port;
    conn.close();
    assert.fail(`attempt ${attempt} connected to 127.0.0.1:${port} from port ${local}`);
  }
});

Deno.test("startOnFreePort() starts a server again on another port when its port is taken", async () => {
  const tried: number[] = [];
  const listener = await startOnFreePort((port) => {
    tried.push(port);
    // Another process takes the first port after it was chosen.
    const other = tried.length === 1 ? Deno.listen({ hostname: "127.0.0.1", port }) : undefined;
    try {
      return Promise.resolve(Deno.listen({ hostname: "127.0.0.1", port }));
    } finally {
      other?.close();
    }
  });
  try {
    assert.equal(tried.length, 2);
    assert.notEqual(tried[0], tried[1]);
    assert.equal(listener.addr.port, tried[1]);
  } finally {
    listener.close();
  }
});

Deno.test("startOnFreePort() gives up at once when a server fails for another reason", async () => {
  let calls = 0;
  await assert.rejects(
    startOnFreePort(() => {
      calls++;
      return Promise.reject(new Error("the server exited: bad configuration"));
    }),
    /bad configuration/,
  );
  assert.equal(calls, 1);
});

Deno.test("startOnFreePort() gives up after three ports in use", async () => {
  let calls = 0;
  await assert.rejects(
    startOnFreePort(() => {
      calls++;
      return Promise.reject(new Error("bind: Address already in use"));
    }),
    /Address already in use/,
  );
  assert.equal(calls, 3);
});
