/**
 * Real reverse proxies for the tests: nginx or haproxy run with a configuration given as text,
 * listening on a free port of 127.0.0.1, ready once a request to `/healthz` goes through.
 */

import { startOnFreePort } from "./_server.ts";

/** Where Debian puts each proxy (`.ci/run` installs both); undefined where it is missing. */
export const PROXIES: Readonly<Record<ProxyKind, string | undefined>> = {
  nginx: installed(["/usr/sbin/nginx", "/usr/bin/nginx"]),
  haproxy: installed(["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]),
};

export type ProxyKind = "nginx" | "haproxy";

export interface RunningProxy {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops the proxy and removes its folder. */
  stop(): Promise<void>;
}

function installed(paths: readonly string[]): string | undefined {
  return paths.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a proxy may take to pass `/healthz` through, on a machine busy with other tests. */
const START_TIMEOUT_MS = 30_000;

/**
 * Runs a proxy with `config(port)` as its configuration file, in a folder of its own (nginx's
 * prefix: its pid and temporary files go there), with only `env(port)` and `PATH` in its
 * environment, on a free port ({@linkcode startOnFreePort}).
 *
 * @throws {Error} When the proxy is not installed, exits, or does not pass `/healthz` through
 * within 30 s (its error output in the message).
 */
export async function startProxy(
  kind: ProxyKind,
  config: (port: number) => string,
  env: (port: number) => Record<string, string> = () => ({}),
): Promise<RunningProxy> {
  const binary = PROXIES[kind];
  if (!binary) throw new Error(`${kind} is not installed`);
  return await startOnFreePort((port) => runProxy(kind, binary, port, config, env));
}

async function runProxy(
  kind: ProxyKind,
  binary: string,
  port: number,
  config: (port: number) => string,
  env: (port: number) => Record<string, string>,
): Promise<RunningProxy> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/proxy.conf`;
  await Deno.writeTextFile(file, config(port));
  const child = new Deno.Command(binary, {
    args: kind === "nginx"
      ? ["-p", dir, "-c", file, "-g", "daemon off; master_process off;"]
      : ["-db", "-f", file],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env(port) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => (exited = true));
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!exited) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok && !exited) return { url, port, stop };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  const why = exited ? "exited" : `did not pass /healthz through in ${START_TIMEOUT_MS / 1000} s`;
  await stop();
  throw new Error(`${kind} ${why} on port ${port}:\n${await stderr}`);
}
