import assert from "node:assert/strict";
import fc from "fast-check";
import { CookieJar } from "./_cookie_jar.ts";
import { SessionConfigError, SessionTooLargeError } from "../lib/mod.ts";
import { assertCookieName, type CookieAttributes } from "../lib/cookie/attributes.ts";
import {
  deletionCookies,
  MAX_COOKIE_BYTES,
  planSessionCookies,
  serializeCookie,
} from "../lib/cookie/write.ts";
import { readSessionCookies } from "../lib/cookie/read.ts";

const ATTRS: CookieAttributes = { path: "/", secure: false, httpOnly: true, sameSite: "Lax" };
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LONG = Array.from({ length: 12 * 4096 }, (_, i) => ALPHABET[(i * 7 + (i >> 6)) % 64]).join(
  "",
);
/** Base64url text of this length (up to 49,152 characters). */
const base64url = (length: number) => {
  assert.ok(length <= LONG.length);
  return LONG.slice(0, length);
};

/** Splits `name=value; attrs…` into its name, value and the Max-Age. */
function parse(header: string): { name: string; value: string; maxAge: number } {
  const [pair, ...attributes] = header.split("; ");
  const eq = pair!.indexOf("=");
  const maxAge = attributes.find((a) => a.startsWith("Max-Age="));
  assert.ok(maxAge, `no Max-Age in ${header}`);
  return {
    name: pair!.slice(0, eq),
    value: pair!.slice(eq + 1),
    maxAge: Number(maxAge.slice("Max-Age=".length)),
  };
}

/** What a browser would send back after these `Set-Cookie` headers. */
function cookieHeader(headers: string[]): string {
  const jar = new CookieJar();
  jar.store(headers);
  return jar.header;
}

/** What Flask's bridge claims: Flask's values hold a ".", sealed ones never do. */
const dotted = (value: string) => value.includes(".");

Deno.test("readSessionCookies() finds the session cookie in a Cookie header", async (t) => {
  await t.step("a single cookie among others", () => {
    const found = readSessionCookies("a=1; session=abc; b=2", "session", 100);
    assert.deepEqual(found, { value: "abc", names: ["session"], stale: [], oversized: false });
  });
  await t.step("no header, or a header without the name", () => {
    for (const header of [undefined, null, "", "a=1; b=2"]) {
      assert.deepEqual(readSessionCookies(header, "session", 100), {
        value: undefined,
        names: [],
        stale: [],
        oversized: false,
      });
    }
  });
  await t.step("names that merely contain or extend the name are not it", () => {
    const header =
      "mysession=x; session_old=y; sessions=z; session.x=w; session.01=v; session.-1=u";
    assert.equal(readSessionCookies(header, "session", 100).value, undefined);
    assert.deepEqual(readSessionCookies(header, "session", 100).names, []);
  });
  await t.step(
    "a value that may be sealed wins over one a foreign session claims (Flask's, dotted)",
    () => {
      assert.equal(
        readSessionCookies("session=e30.ZZ.sig; session=abc", "session", 100, dotted).value,
        "abc",
      );
      // Without a foreign session, nothing is claimed: the first value is the one read.
      assert.equal(readSessionCookies("session=e30.ZZ.sig", "session", 100).value, "e30.ZZ.sig");
      assert.equal(
        readSessionCookies("session=e30.ZZ.sig", "session", 100, dotted).value,
        undefined,
      );
    },
  );
  await t.step("the first of two cookies of the same name wins", () => {
    assert.equal(
      readSessionCookies("session=first; session=second", "session", 100).value,
      "first",
    );
    assert.equal(readSessionCookies("session.0=a; session.0=b", "session", 100).value, "a");
  });
  await t.step("a quoted value is unquoted", () => {
    assert.equal(readSessionCookies('session="abc"', "session", 100).value, "abc");
    assert.equal(readSessionCookies('session="', "session", 100).value, '"');
  });
  await t.step("spaces around names and values are ignored", () => {
    assert.equal(readSessionCookies("a=1;session = abc ;b=2", "session", 100).value, "abc");
  });
  await t.step("an empty value counts as absent, but its name is reported", () => {
    assert.deepEqual(readSessionCookies("session=", "session", 100), {
      value: undefined,
      names: ["session"],
      stale: [],
      oversized: false,
    });
  });
  await t.step("a value with = in it is kept whole", () => {
    assert.equal(readSessionCookies("session=a=b", "session", 100).value, "a=b");
  });
  await t.step("the __Host- name does not match the plain one, nor the other way round", () => {
    assert.equal(readSessionCookies("session=plain", "__Host-session", 100).value, undefined);
    assert.equal(readSessionCookies("__Host-session=secure", "session", 100).value, undefined);
    assert.equal(
      readSessionCookies("session=plain; __Host-session=secure", "__Host-session", 100).value,
      "secure",
    );
  });
});

Deno.test("readSessionCookies() joins chunks in index order", async (t) => {
  await t.step("chunks in any order", () => {
    const found = readSessionCookies(
      "session.2=ef; x=1; session.0=ab; session.1=cd",
      "session",
      100,
    );
    assert.equal(found.value, "abcdef");
    assert.deepEqual(found.names.sort(), ["session.0", "session.1", "session.2"]);
  });
  await t.step("a single cookie wins over chunks, which are reported stale", () => {
    const found = readSessionCookies("session.0=ab; session=one; session.1=cd", "session", 100);
    assert.equal(found.value, "one");
    assert.deepEqual(found.names.sort(), ["session", "session.0", "session.1"]);
    assert.deepEqual(found.stale.sort(), ["session.0", "session.1"]);
  });
  await t.step("a single value a foreign session claims does not win over chunks", () => {
    const found = readSessionCookies("session=e30.ZZ.sig; session.0=ab", "session", 100, dotted);
    assert.equal(found.value, "ab");
    assert.deepEqual(found.stale, ["session"]);
  });
  await t.step("an empty single cookie does not win over chunks, and is stale", () => {
    const found = readSessionCookies("session=; session.0=ab; session.1=cd", "session", 100);
    assert.equal(found.value, "abcd");
    assert.deepEqual(found.stale, ["session"]);
  });
  await t.step("joining stops at the first missing index", () => {
    const found = readSessionCookies("session.0=ab; session.2=ef", "session", 100);
    assert.equal(found.value, "ab");
    assert.deepEqual(found.names.sort(), ["session.0", "session.2"]);
  });
  await t.step("chunks without a chunk 0 are no value", () => {
    const found = readSessionCookies("session.1=cd; session.2=ef", "session", 100);
    assert.equal(found.value, undefined);
    assert.deepEqual(found.names.sort(), ["session.1", "session.2"]);
  });
  await t.step("a single cookie is used when only stray chunks are present", () => {
    assert.equal(readSessionCookies("session=abc; session.1=cd", "session", 100).value, "abc");
  });
  await t.step("indexes up to 99 are chunks", () => {
    const header = Array.from({ length: 100 }, (_, i) => `session.${i}=${i % 10}`).join("; ");
    assert.equal(readSessionCookies(header, "session", 1000).value?.length, 100);
    assert.equal(readSessionCookies(header + "; session.100=x", "session", 1000).names.length, 100);
  });
});

Deno.test("readSessionCookies() refuses a value longer than the limit, unread", () => {
  const found = readSessionCookies(`session=${"a".repeat(101)}`, "session", 100);
  assert.deepEqual(found, { value: undefined, names: ["session"], stale: [], oversized: true });
  assert.equal(readSessionCookies(`session=${"a".repeat(100)}`, "session", 100).oversized, false);
  const chunked = readSessionCookies(
    `session.0=${"a".repeat(60)}; session.1=${"b".repeat(41)}`,
    "session",
    100,
  );
  assert.equal(chunked.value, undefined);
  assert.equal(chunked.oversized, true);
  assert.deepEqual(chunked.names, ["session.0", "session.1"]);
});

Deno.test("serializeCookie() writes the value, Max-Age and every attribute", () => {
  assert.equal(
    serializeCookie("session", "abc", ATTRS, 60),
    "session=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax",
  );
  assert.equal(
    serializeCookie("__Secure-s", "v", {
      path: "/app",
      domain: "example.com",
      secure: true,
      httpOnly: false,
      sameSite: "None",
      partitioned: true,
    }, 12.9),
    "__Secure-s=v; Max-Age=12; Path=/app; Domain=example.com; Secure; SameSite=None; Partitioned",
  );
  assert.equal(
    serializeCookie("s", "", ATTRS, -5),
    "s=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
  );
});

Deno.test("planSessionCookies() stores a sealed value in as few cookies as fit", async (t) => {
  await t.step("a value that fits is one cookie named as configured", () => {
    const headers = planSessionCookies("session", "abc", ATTRS, 60, 65_536, []);
    assert.deepEqual(headers, ["session=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"]);
  });
  await t.step("the largest value that fits in one cookie is one cookie of 4096 bytes", () => {
    const overhead = serializeCookie("session", "", ATTRS, 60).length;
    const fits = planSessionCookies(
      "session",
      base64url(MAX_COOKIE_BYTES - overhead),
      ATTRS,
      60,
      65_536,
      [],
    );
    assert.equal(fits.length, 1);
    assert.equal(fits[0]!.length, MAX_COOKIE_BYTES);
    const over = planSessionCookies(
      "session",
      base64url(MAX_COOKIE_BYTES - overhead + 1),
      ATTRS,
      60,
      65_536,
      [],
    );
    assert.equal(over.length, 2);
    assert.deepEqual(over.map((h) => parse(h).name), ["session.0", "session.1"]);
  });
  await t.step("every chunk is at most 4096 bytes and they join back to the value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 * MAX_COOKIE_BYTES }),
        fc.constantFrom("session", "__Host-session", "s"),
        fc.integer({ min: 512, max: 12 * MAX_COOKIE_BYTES }),
        (length, name, budget) => {
          const value = base64url(length);
          let headers: string[];
          try {
            headers = planSessionCookies(name, value, ATTRS, 3600, budget, []);
          } catch (error) {
            assert.ok(error instanceof SessionTooLargeError);
            assert.ok(error.size > budget);
            return;
          }
          for (const header of headers) assert.ok(header.length <= MAX_COOKIE_BYTES, header);
          // What the browser sends back fits the budget.
          assert.ok(cookieHeader(headers).length <= budget, `${cookieHeader(headers).length}`);
          const found = readSessionCookies(cookieHeader(headers), name, budget);
          assert.equal(found.value, value);
        },
      ),
      { numRuns: 200 },
    );
  });
  await t.step("a value whose cookies exceed maxCookieBytes is SessionTooLargeError", () => {
    let caught: unknown;
    assert.throws(
      () => planSessionCookies("session", base64url(20_000), ATTRS, 60, 16_384, ["session"]),
      (error: unknown) => (caught = error, true),
    );
    assert.ok(caught instanceof SessionTooLargeError);
    assert.equal(caught.code, "ERR_SESSION_TOO_LARGE");
    assert.equal(caught.limit, 16_384);
    assert.match(caught.message, /in the Cookie header.*maxCookieBytes/);
    assert.ok(caught.size > 20_000);
    assert.ok(caught.message.includes(String(caught.size)));
  });
  await t.step("SessionTooLargeError reports a size above its limit whenever it is thrown", () => {
    // Find the longest value that fits in the budget, then go just past it.
    for (const budget of [1024, 4096, 6144, 16_384]) {
      let fits = 0;
      for (let length = budget - 200; length <= budget + 1; length++) {
        try {
          planSessionCookies("session", base64url(length), ATTRS, 60, budget, []);
          fits = length;
        } catch (error) {
          assert.ok(error instanceof SessionTooLargeError);
          assert.equal(error.limit, budget);
          assert.ok(
            error.size > error.limit,
            `budget ${budget}, value ${length}: size ${error.size} <= limit ${error.limit}`,
          );
        }
      }
      assert.ok(fits > budget - 200, `budget ${budget}: nothing fits`);
    }
  });
});

Deno.test("planSessionCookies() expires the request's cookies the new value does not use", async (t) => {
  const big = base64url(3 * 4000);
  await t.step("shrinking from chunks to one cookie expires every chunk", () => {
    const headers = planSessionCookies("session", "small", ATTRS, 60, 65_536, [
      "session.0",
      "session.1",
      "session.2",
    ]);
    assert.deepEqual(headers.map(parse), [
      { name: "session", value: "small", maxAge: 60 },
      { name: "session.0", value: "", maxAge: 0 },
      { name: "session.1", value: "", maxAge: 0 },
      { name: "session.2", value: "", maxAge: 0 },
    ]);
  });
  await t.step("growing from one cookie to chunks expires the single cookie", () => {
    const headers = planSessionCookies("session", big, ATTRS, 60, 65_536, ["session"]).map(parse);
    assert.deepEqual(headers.map((h) => [h.name, h.maxAge]), [
      ["session.0", 60],
      ["session.1", 60],
      ["session.2", 60],
      ["session", 0],
    ]);
  });
  await t.step("fewer chunks than before expires the ones left over", () => {
    const headers = planSessionCookies("session", big, ATTRS, 60, 65_536, [
      "session.0",
      "session.1",
      "session.2",
      "session.3",
      "session.4",
    ]).map(parse);
    assert.deepEqual(headers.filter((h) => h.maxAge === 0).map((h) => h.name), [
      "session.3",
      "session.4",
    ]);
  });
  await t.step("cookies rewritten are not also expired", () => {
    const headers = planSessionCookies("session", "v", ATTRS, 60, 65_536, ["session"]);
    assert.equal(headers.length, 1);
  });
});

Deno.test("deletionCookies() expires the plain name and every cookie the request carried", () => {
  assert.deepEqual(deletionCookies("session", ATTRS, []), [
    "session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
  ]);
  const headers = deletionCookies("session", { ...ATTRS, path: "/app" }, [
    "session.0",
    "session",
    "session.1",
  ]);
  assert.deepEqual(headers.map(parse).map((h) => [h.name, h.value, h.maxAge]), [
    ["session", "", 0],
    ["session.0", "", 0],
    ["session.1", "", 0],
  ]);
  assert.ok(headers.every((h) => h.includes("; Path=/app;")));
});

Deno.test("assertCookieName() accepts RFC 6265 tokens and names the option otherwise", () => {
  for (const good of ["session", "s", "__Host-x", "a.b", "A1!#$%&'*+-.^_`|~"]) {
    assertCookieName(good, "cookieName");
  }
  for (const bad of ["", "a b", "a;b", "a=b", "a,b", 'a"b', "é", "a\tb", "(a)"]) {
    assert.throws(
      () => assertCookieName(bad, "cookieName"),
      (error: unknown) =>
        error instanceof SessionConfigError && error.option === "cookieName" &&
        error.code === "ERR_SESSION_CONFIG" && error.message.includes('"cookieName"'),
      JSON.stringify(bad),
    );
  }
});
