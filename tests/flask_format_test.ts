/**
 * Tests of the pieces under the Flask codec: Python's JSON dialect, Python's float repr, Flask's
 * tags, its HTTP dates and the two base64 dialects. Expected texts come from Python 3.11 and
 * Flask 3.1.3.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { anyChar } from "./_arbitraries.ts";
import {
  decodeBase64,
  decodeBase64Url,
  encodeBase64,
  encodeBase64Url,
} from "../lib/flask/_base64.ts";
import { formatHttpDate, parseHttpDate } from "../lib/flask/_http_date.ts";
import { type JsonValue, parsePythonJson, stringifyPythonJson } from "../lib/flask/_python_json.ts";
import { formatPythonNumber } from "../lib/flask/_python_number.ts";
import { tagValue, untagValue } from "../lib/flask/_tagged_json.ts";

const RUNS = { numRuns: 200 };

// ---------------------------------------------------------------------------------------------
// Numbers.

/** `repr()` of floats in Python 3.11: edge cases, then a random sample (bit patterns, scales). */
const PYTHON_FLOAT_REPRS = [
  "0.1",
  "0.30000000000000004",
  "0.3333333333333333",
  "0.6666666666666666",
  "1e+16",
  "1000000000000000.0",
  "9999999999999998.0",
  "0.0001",
  "1e-05",
  "0.00012345",
  "1.5e-07",
  "1e+100",
  "1e-100",
  "5e-324",
  "2.2250738585072014e-308",
  "1.7976931348623157e+308",
  "9007199254740992.0",
  "9007199254740994.0",
  "9.223372036854776e+18",
  "1.8446744073709552e+19",
  "1.2345678901234568e+17",
  "1e+21",
  "1e+22",
  "1e+23",
  "4.35",
  "0.5",
  "100.5",
  "1234.5678",
  "-2.5",
  "-1e-07",
  "1.2345678901234568e+16",
  "1e+301",
  "3.141592653589793",
  "2.718281828459045",
  "1e-07",
  "1e+23",
  "6.883094474590721e-302",
  "3.008370303690502e-130",
  "1.4033003619459885e-172",
  "-9.929878452947814e+17",
  "5.8752562243597816e+16",
  "8.563698123705974e+24",
  "-7.742400533245218e+25",
  "-6.562755502538605e+226",
  "-2.937932502459405e+148",
  "1.4594467757620115e+86",
  "-2.9863170438377896e+31",
  "-77990500000.0",
  "-1.0439787451549632e-13",
  "396300.21343273786",
  "-7.81026372497548e-128",
  "4.206627894099227e-61",
  "-2.6736657242307545e+266",
  "509538049.4617624",
  "4.7413859856555573e-166",
  "-237.0",
  "3.2214045637664044e-209",
  "-7.423094014883132e+77",
  "836.4605",
  "-1.809240132471196e-69",
  "-4.0822080337990423e+216",
  "-6.688343100501329e-22",
  "-1.2771844995035822e+166",
  "-1.3283324249458332e-161",
  "-3.051267431196718e+27",
  "-5.405570405815569e-15",
  "446954607.1329337",
  "3.567719966418501e+35",
  "-8.829095728540666e-06",
  "-5.042021279883794e-283",
  "5.596085929590081e-59",
  "-9.894206069767847e-112",
  "-9.155617763462266e-23",
  "1.8611422757872894e-10",
  "7.143037911970637e-10",
  "4.4875603053519295e+116",
  "-4.304810725308815e-240",
  "9.784872997231152e-25",
  "2.1440432132395988e-52",
  "-6.412564747735039e+30",
  "-67.24976192542324",
  "918900.0",
  "0.0012187006942635914",
  "-757729.5299999999",
  "989500000.0",
  "0.0009103172089968762",
  "-6.485493972412567e+18",
  "0.21309652952607497",
  "7.44e+21",
  "-8.831809210122125e+176",
  "88.25",
  "-4.3161388877488404e-75",
  "-8.379888003930799e+179",
  "-40416769955.4676",
  "1.5965505829202626e+33",
  "1.9879201175360933e+96",
  "1.4407219380168453e+20",
  "2.2832677912819586e+27",
  "-5.022226950738406e+18",
  "5.412286591678842e+273",
  "4.927411193449787e+278",
  "1.294370377885642e-53",
  "-0.08630122500000001",
  "-3.541417820155147e-165",
  "-3.42936e+21",
  "-9.311216918317688e+22",
  "-1.205257416359923e-219",
  "-0.522007755",
  "-2.956e+20",
  "-1.5915400172044992e+113",
  "8.06663733757175e-41",
  "7.171910381431775e+40",
  "-4.005537447496232e-200",
  "-809413.8632639621",
  "1.03229857838477e+25",
  "-3713827965.7809763",
  "-1.7269551034166168e+46",
  "-9.662438370534796e-207",
  "-2.9886890504397514e+50",
  "-2.3139131040751835e-102",
  "3170000000000000.0",
  "3.837607001241937e-22",
  "-1.9394866914336832e-271",
  "1.3463712827503682e-09",
  "6.339965902720792e-63",
  "-6.659069713102967e+81",
  "-9.214539247322589e-12",
  "2429600620000.0",
  "-4.791248570885687e+254",
  "3.4265290424147625e-202",
  "9.52428656170288e-21",
  "-4.309519431792378e+29",
  "3.3702273499926875e-53",
  "-4.57138173409174e-17",
  "-99.88",
  "-9788839000000000.0",
  "-1.8074215570514698e+223",
  "7.048616912601746e+27",
  "-2.7499927304295547e+246",
  "-4.7836393604188316e+210",
  "-1.373127430427472e-33",
  "-1.426072295530265e+17",
  "-4.165091735659958e+285",
  "-67956.44",
  "2.83423893488033e-42",
  "1.2608478541122456e-46",
  "1.5772089730963486e+262",
  "-1.6854617531207048e-47",
  "5.1102531e+20",
  "-938900000000.0",
  "5.462194772236136e+251",
  "3.077161585632526e-58",
  "4.35273e-05",
  "7.777210352036562e+27",
  "-1.038907676010187e+54",
  "-6.394093444824983",
  "-309.7",
  "1.0551153475296327e-243",
  "-6.380371479531301e-17",
  "-5.5611707220272514e-247",
  "5.5435396033032635e+212",
  "-3767300.0",
  "-2.26718795039273e+202",
  "4.533165955788738e-232",
  "1.3649724915982819e+38",
  "-4.385202038975828e+22",
  "-8.05382777861928e-104",
  "-1.4191022904673694e+211",
  "-3.878936213105201e-262",
  "-3.1752012321471733e-162",
  "-3.6214999999999996e+21",
  "2.841431166284566e-11",
  "-1.3022742720773555e+281",
  "8.270101558459803e+16",
  "-3.923946746894458e-58",
  "-2.5845749290932295e-101",
  "-170.098959",
  "-8.547374370373333e+164",
  "3.768273985133207e+200",
  "3.91424571908906e+229",
  "-7.16472116218735e-20",
  "6161367488149507.0",
  "11204428218477.104",
  "-1.3213207658720669e-22",
  "1.384413435843722e-07",
  "-3.8998917901624925e+55",
  "1.0452659372626734e-15",
  "8.476907717533922e+244",
  "3.1707529425915436e+224",
  "2.2711947041516104e-290",
  "-682377.0",
  "3.031582658400147e-37",
  "6.532854620151151e+283",
  "-8.677955006394868e-11",
  "4.01672867934459e+216",
  "4.6257458045380344e+114",
  "-8.732742721822102e-291",
  "70122260557.31158",
  "6.74792699122936e-70",
  "4.7756244428379055e+305",
  "-1.0881824034552334e+121",
  "-80.1941",
  "-33523.57334338788",
  "924.3",
  "-4.140303789951314e-24",
  "8.974495926757299e+33",
  "6582509601297.3",
  "-9.70248649360406e-119",
  "-7.664138953203353e-209",
  "-1.9576224469279677e+27",
  "2.4470266091631052e+92",
  "-1.5834808676154833e-100",
  "8.739319143929973e-274",
  "-2.408446887096085e-10",
  "-2.2661941692073534e+177",
  "964281.06",
  "-7.146854459415921e-137",
  "3.6017755039375023e-239",
  "-7.741167404078861e+149",
  "-7.626998174313209e-09",
  "6.460446257365617e-281",
  "1.4762830409565073e+42",
  "6.34692766637891e+292",
  "4.281004640220313e+30",
  "3.413235323132367e+24",
  "4.146501560141737e+208",
  "-1.6683002040382324e-217",
  "-1.9939840925497876e-20",
  "-2.55718676837443e+199",
  "70929.53511788149",
  "3.0792028347050967e+69",
  "-3.817753475783976e-277",
  "1.015336774790328e+26",
  "7.054447299939639e-13",
  "5.149280759307165e+20",
  "-6.036935979903465e+302",
  "9.866287317274755e-19",
  "-330315000.0",
  "-4.458615728311327e-150",
  "5.282625247876886e-06",
  "-1.8948763930819758e-59",
  "6.2847452735425375e-22",
  "-2.0915760851354708e-221",
  "925126438.3627477",
  "-2.454522449771108e+199",
  "2.8786573457927792e+113",
  "3.1391061585310386e-292",
  "4.488904531898319e-20",
  "-1.159692391010774e+56",
  "-6.806576701354136e+28",
  "1.4596762392454787e-06",
  "394420000000000.0",
  "2.80062079126575e+20",
  "-2.091509781085171e+102",
  "-942000.0",
  "8.549230001565702e-08",
  "2.4297798204284463e+20",
  "1.8276470444000446e+238",
  "-6.708544515054623e-239",
  "4.146262591830555e-11",
  "60527161753.29247",
  "-282182.80457957915",
  "-9.569965600000001e+20",
  "5.643104980596574e-20",
  "86121111.48451298",
  "87051812242.17482",
  "1.1287470548140444e-22",
  "-6.663898072871465e+34",
  "-2.5860861007881638e-166",
  "-9.52554693306926e+31",
  "-4.08815246624308e+183",
  "3.7618099461357006e+162",
  "-1.391255437809556e-211",
  "-58590997966905.86",
  "-8.800371502774641e+94",
  "-3.55273236072262e-68",
];

Deno.test("formatPythonNumber() writes floats exactly as Python's repr", () => {
  for (const repr of PYTHON_FLOAT_REPRS) {
    const value = Number(repr);
    // A float with an integral value below 2^53 is written as an int by design.
    const expected = Number.isSafeInteger(value) ? String(value) : repr;
    assert.strictEqual(formatPythonNumber(value), expected, repr);
    const negated = expected.startsWith("-") ? expected.slice(1) : `-${expected}`;
    assert.strictEqual(formatPythonNumber(-value), negated, `-(${repr})`);
  }
});

Deno.test("formatPythonNumber() writes safe integers as ints and other values as floats", () => {
  assert.strictEqual(formatPythonNumber(0), "0");
  assert.strictEqual(formatPythonNumber(-0), "-0.0");
  assert.strictEqual(formatPythonNumber(3), "3");
  assert.strictEqual(formatPythonNumber(Number.MAX_SAFE_INTEGER), "9007199254740991");
  assert.strictEqual(formatPythonNumber(2 ** 53), "9007199254740992.0");
  assert.strictEqual(formatPythonNumber(1e16), "1e+16");
  assert.strictEqual(formatPythonNumber(NaN), "NaN");
  assert.strictEqual(formatPythonNumber(Infinity), "Infinity");
  assert.strictEqual(formatPythonNumber(-Infinity), "-Infinity");
});

Deno.test("formatPythonNumber() output reads back as the same number", () => {
  fc.assert(
    fc.property(fc.double(), (value) => {
      const parsed = parsePythonJson(formatPythonNumber(value));
      assert.ok(typeof parsed === "number", `${value} read back as ${typeof parsed}`);
      assert.ok(Object.is(parsed, value));
    }),
    { numRuns: 1000 },
  );
});

// ---------------------------------------------------------------------------------------------
// Parsing Python's JSON.

Deno.test("parsePythonJson() reads NaN, Infinity and exact big integers", () => {
  assert.deepStrictEqual(
    parsePythonJson(
      "[NaN,Infinity,-Infinity,9007199254740991,9007199254740992,-9223372036854775808]",
    ),
    [NaN, Infinity, -Infinity, 9007199254740991, 9007199254740992n, -9223372036854775808n],
  );
  // Python: the int -0 is 0, the float -0.0 keeps its sign, 1E2 is the float 100.0.
  assert.ok(Object.is(parsePythonJson("-0"), 0));
  assert.ok(Object.is(parsePythonJson("-0.0"), -0));
  assert.strictEqual(parsePythonJson("1E2"), 100);
  assert.strictEqual(parsePythonJson("1e400"), Infinity);
  assert.strictEqual(parsePythonJson("0000000000000000001".replace(/^0+/, "")), 1);
  assert.strictEqual(parsePythonJson("12345678901234567890"), 12345678901234567890n);
});

Deno.test("parsePythonJson() refuses integers Python refuses to convert", () => {
  assert.strictEqual(parsePythonJson("9".repeat(4300)), BigInt("9".repeat(4300)));
  assert.throws(() => parsePythonJson("9".repeat(4301)), SyntaxError);
  assert.strictEqual(parsePythonJson(`-${"9".repeat(4300)}`), -BigInt("9".repeat(4300)));
});

Deno.test("parsePythonJson() accepts what Python's json.loads accepts", () => {
  assert.deepStrictEqual(parsePythonJson(' {\n "b" : 1 ,\t"a":[ 1 , 2 ] }\r\n'), {
    b: 1,
    a: [1, 2],
  });
  assert.deepStrictEqual(parsePythonJson('{"a":1,"a":2}'), { a: 2 });
  assert.deepStrictEqual(
    parsePythonJson('"\\/\\u00E9\\ud83d\\ude00\\ud800x"'),
    "/\u00e9\u{1f600}\ud800x",
  );
  assert.deepStrictEqual(parsePythonJson('"\u00e9\u{1f600}\u007f"'), "\u00e9\u{1f600}\u007f");
  assert.deepStrictEqual(parsePythonJson("[]"), []);
  assert.deepStrictEqual(parsePythonJson("{ }"), {});
  assert.strictEqual(parsePythonJson("null"), null);
});

Deno.test("parsePythonJson() refuses what Python's json.loads refuses", () => {
  for (
    const text of [
      "",
      " ",
      "{",
      "[1,]",
      '{"a":1,}',
      "01",
      "1.",
      ".5",
      "1e",
      "-",
      "+1",
      "--1",
      "nul",
      "NaNa",
      "-NaN",
      "infinity",
      "'a'",
      '"\\x41"',
      '"\\u12"',
      '"a\nb"',
      '"a\u0000"',
      '"a',
      "\ufeff{}",
      "{}x",
      "{} {}",
      '{"a" 1}',
      "{1:2}",
      "[1 2]",
      "\u00a0[]",
      "[1]]",
      "true false",
    ]
  ) {
    assert.throws(() => parsePythonJson(text), SyntaxError, JSON.stringify(text));
  }
});

Deno.test("parsePythonJson() makes a __proto__ key an own property", () => {
  const value = parsePythonJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
  assert.strictEqual(Object.getPrototypeOf(value), Object.prototype);
  assert.deepStrictEqual(Object.keys(value), ["__proto__"]);
  assert.strictEqual(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parsePythonJson() refuses nesting deeper than 256 levels", () => {
  assert.doesNotThrow(() => parsePythonJson(`${"[".repeat(256)}${"]".repeat(256)}`));
  assert.throws(() => parsePythonJson(`${"[".repeat(257)}${"]".repeat(257)}`), SyntaxError);
  assert.throws(() => parsePythonJson(`${'{"a":'.repeat(257)}1${"}".repeat(257)}`), SyntaxError);
  assert.throws(() => parsePythonJson("[".repeat(100_000)), SyntaxError);
});

/** JSON.parse's reading, with exact integers beyond 2^53 turned back into numbers. */
function lossy(value: JsonValue): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(lossy);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lossy(v)]));
  }
  return value;
}

/** JSON values with any code points and lone surrogates in strings and keys, any doubles. */
const jsonValue = (numbers: fc.Arbitrary<number>) =>
  fc.letrec<{ value: JsonValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string({ unit: anyChar }),
      numbers,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ unit: anyChar }), tie("value"), {
        maxKeys: 4,
        noNullPrototype: true,
      }),
    ),
  })).value;

Deno.test("parsePythonJson() reads any standard JSON as JSON.parse does", () => {
  fc.assert(
    // fc.jsonValue() with Unicode strings takes seconds to set up; this takes milliseconds.
    fc.property(jsonValue(fc.double({ noNaN: true, noDefaultInfinity: true })), (value) => {
      const text = JSON.stringify(value);
      assert.deepStrictEqual(lossy(parsePythonJson(text)), JSON.parse(text));
    }),
    RUNS,
  );
});

// ---------------------------------------------------------------------------------------------
// Writing Python's JSON.

Deno.test("stringifyPythonJson() sorts keys by code point, not by UTF-16 unit", () => {
  const text = stringifyPythonJson({
    "\uff46": 1,
    "\u{1f600}": 2,
    "10": 3,
    "9": 4,
    B: 5,
    _x: 6,
    a: 7,
    "": 8,
    "\u00e9": 9,
    "\ue000": 10,
  });
  // Written by Flask 3.1.3 for the same dict.
  assert.strictEqual(
    text,
    '{"":8,"10":3,"9":4,"B":5,"_x":6,"a":7,"\\u00e9":9,"\\ue000":10,"\\uff46":1,"\\ud83d\\ude00":2}',
  );
  // Lone surrogates are code points of their own, between U+D7FF and U+E000.
  assert.strictEqual(
    stringifyPythonJson({ "\ud800": 1, "\ue000": 2, "\u{10000}": 3, "\ud7ff": 4 }),
    '{"\\ud7ff":4,"\\ud800":1,"\\ue000":2,"\\ud800\\udc00":3}',
  );
  assert.strictEqual(
    stringifyPythonJson({ "\ud83d": 1, "\ud83da": 2, "\u{1f600}": 3 }),
    '{"\\ud83d":1,"\\ud83da":2,"\\ud83d\\ude00":3}',
  );
});

Deno.test("stringifyPythonJson() escapes as Python's ensure_ascii", () => {
  assert.strictEqual(
    stringifyPythonJson('"\\\n\r\t\b\f\x00\x1f\x7f/ \u00e9\u20ac\u{1f600}~'),
    '"\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\\u007f/ \\u00e9\\u20ac\\ud83d\\ude00~"',
  );
  assert.strictEqual(stringifyPythonJson("a\ud800b\udc00"), '"a\\ud800b\\udc00"');
});

Deno.test("stringifyPythonJson() writes pure ASCII that reads back as the same value", () => {
  fc.assert(
    fc.property(jsonValue(fc.double()), (value) => {
      const text = stringifyPythonJson(value);
      assert.match(text, /^[\x20-\x7e]*$/);
      assert.deepStrictEqual(parsePythonJson(text), value);
    }),
    RUNS,
  );
});

// ---------------------------------------------------------------------------------------------
// Tags.

Deno.test("tagValue() wraps one-key objects whose key is a tag, at any depth", () => {
  assert.deepStrictEqual(tagValue({ " t": [1, 2] }), { " di": { " t__": [1, 2] } });
  assert.deepStrictEqual(tagValue({ a: [{ " di": { " m": "q" } }] }), {
    a: [{ " di": { " di__": { " di": { " m__": "q" } } } }],
  });
  // Two keys, or a key that is not a tag, need no wrapping.
  assert.deepStrictEqual(tagValue({ a: { " t": 1, z: 2 }, b: { t: 1 } }), {
    a: { " t": 1, z: 2 },
    b: { t: 1 },
  });
});

Deno.test("tagValue() tags bytes and dates, and keeps a __proto__ key as data", () => {
  assert.deepStrictEqual(tagValue({ b: new Uint8Array([0, 255]) }), { b: { " b": "AP8=" } });
  assert.deepStrictEqual(tagValue({ d: new Date("2000-01-01T00:00:00.999Z") }), {
    d: { " d": "Sat, 01 Jan 2000 00:00:00 GMT" },
  });
  const data = JSON.parse('{"__proto__":{"x":1}}');
  const tagged = tagValue(data) as Record<string, unknown>;
  assert.deepStrictEqual(Object.keys(tagged), ["__proto__"]);
  assert.strictEqual(Object.getPrototypeOf(tagged), Object.prototype);
});

Deno.test("untagValue() turns every Flask tag into its JavaScript value", () => {
  const value = untagValue(parsePythonJson(
    '{"t":{" t":[1,{" t":[]}]},"b":{" b":"AAH+/2hlbGxv"},"m":{" m":"<b>x</b>"},' +
      '"u":{" u":"12345678123456781234567812345678"},"d":{" d":"Thu, 29 Feb 2024 12:34:56 GMT"},' +
      '"di":{" di":{" t__":[1]}},"multi":{" t":[1],"x":2}}',
  ));
  assert.deepStrictEqual(value, {
    t: [1, []],
    b: new Uint8Array([0, 1, 0xfe, 0xff, 0x68, 0x65, 0x6c, 0x6c, 0x6f]),
    m: "<b>x</b>",
    u: "12345678-1234-5678-1234-567812345678",
    d: new Date("2024-02-29T12:34:56Z"),
    di: { " t": [1] },
    multi: { " t": [1], x: 2 },
  });
});

Deno.test("untagValue() reads the UUID spellings Python's uuid.UUID reads", () => {
  const expected = "12345678-1234-5678-1234-56781234567a";
  for (
    const text of [
      "123456781234567812345678123456780".slice(0, 31) + "A",
      "12345678-1234-5678-1234-56781234567A",
      "{12345678-1234-5678-1234-56781234567a}",
      "urn:uuid:12345678-1234-5678-1234-56781234567a",
      "1234-5678-1234-5678-1234-5678-1234-567a",
    ]
  ) {
    assert.strictEqual(untagValue({ " u": text }), expected, text);
  }
  for (
    const text of [
      "",
      "xyz",
      "12345678-1234-5678-1234-56781234567",
      " 12345678123456781234567812345678",
    ]
  ) {
    assert.throws(() => untagValue({ " u": text }), SyntaxError, text);
  }
});

Deno.test("untagValue() refuses tags whose content Flask never writes", () => {
  for (
    const tagged of [
      { " t": "ab" },
      { " t": 1 },
      { " t": null },
      { " b": 1 },
      { " b": "w6k" },
      { " b": "w6k==" },
      { " b": "w6-k" },
      { " m": 1 },
      { " u": 1 },
      { " d": null },
      { " d": "garbage" },
      { " d": "Sat, 01 Jun 2024 10:00:00 +0200" },
      { " di": {} },
      { " di": [1] },
      { " di": { "a__": 1, "b__": 2 } },
      { " di": "x" },
    ] as JsonValue[]
  ) {
    assert.throws(() => untagValue(tagged), SyntaxError, JSON.stringify(tagged));
  }
});

Deno.test("untagValue() drops the last two characters of a ` di` key, as Flask does", () => {
  assert.deepStrictEqual(untagValue({ " di": { "abc": 1 } }), { a: 1 });
  assert.deepStrictEqual(untagValue({ " di": { "a\u{1f600}\u{1f600}": 1 } }), { a: 1 });
  assert.deepStrictEqual(untagValue({ " di": { "x": 1 } }), { "": 1 });
  const proto = untagValue(parsePythonJson('{" di":{"__proto____":1}}')) as Record<string, unknown>;
  assert.deepStrictEqual(Object.keys(proto), ["__proto__"]);
  assert.strictEqual(Object.getPrototypeOf(proto), Object.prototype);
});

// ---------------------------------------------------------------------------------------------
// Dates.

Deno.test("formatHttpDate() writes Werkzeug's http_date and refuses years Flask misreads", () => {
  assert.strictEqual(
    formatHttpDate(new Date("1969-07-20T20:17:40.5Z")),
    "Sun, 20 Jul 1969 20:17:40 GMT",
  );
  assert.strictEqual(
    formatHttpDate(new Date("0100-03-01T00:00:00Z")),
    "Mon, 01 Mar 0100 00:00:00 GMT",
  );
  assert.strictEqual(
    formatHttpDate(new Date("9999-12-31T23:59:59.999Z")),
    "Fri, 31 Dec 9999 23:59:59 GMT",
  );
  assert.throws(() => formatHttpDate(new Date("0099-12-31T23:59:59Z")), RangeError);
  assert.throws(() => formatHttpDate(new Date("+010000-01-01T00:00:00Z")), RangeError);
  assert.throws(() => formatHttpDate(new Date(NaN)), RangeError);
});

Deno.test("parseHttpDate() reads dates as Flask's parse_date does", () => {
  const iso = (text: string) => parseHttpDate(text)?.toISOString() ?? null;
  assert.strictEqual(iso("Thu, 29 Feb 2024 12:34:56 GMT"), "2024-02-29T12:34:56.000Z");
  // The weekday is not checked; years below 100 are two-digit years (Flask 3.1.3 behaviour).
  assert.strictEqual(iso("Mon, 01 Jan 2024 00:00:00 GMT"), "2024-01-01T00:00:00.000Z");
  assert.strictEqual(iso("Mon, 01 Jan 0001 00:00:00 GMT"), "2001-01-01T00:00:00.000Z");
  assert.strictEqual(iso("Mon, 01 Jan 0068 00:00:00 GMT"), "2068-01-01T00:00:00.000Z");
  assert.strictEqual(iso("Mon, 01 Jan 0069 00:00:00 GMT"), "1969-01-01T00:00:00.000Z");
  assert.strictEqual(iso("Mon, 01 Jan 0100 00:00:00 GMT"), "0100-01-01T00:00:00.000Z");
  // Well-formed but impossible: Flask's parse_date gives None.
  for (
    const text of [
      "Fri, 30 Feb 2024 10:00:00 GMT",
      "Mon, 00 Jan 2024 00:00:00 GMT",
      "Mon, 01 Jan 2024 24:00:00 GMT",
      "Mon, 01 Jan 2024 23:59:60 GMT",
    ]
  ) {
    assert.strictEqual(parseHttpDate(text), null, text);
  }
  for (
    const text of [
      "",
      "garbage",
      "Mon, 1 Jan 2024 00:00:00 GMT",
      "mon, 01 jan 2024 00:00:00 gmt",
      "Mon, 01 Jan 2024 00:00:00 +0000",
      "Mon, 01 Jan 24 00:00:00 GMT",
    ]
  ) {
    assert.throws(() => parseHttpDate(text), SyntaxError, text);
  }
});

Deno.test("formatHttpDate() and parseHttpDate() round-trip whole seconds", () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date("0100-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59Z"),
        noInvalidDate: true,
      }),
      (date) => {
        const seconds = new Date(Math.floor(date.getTime() / 1000) * 1000);
        assert.deepStrictEqual(parseHttpDate(formatHttpDate(date)), seconds);
      },
    ),
    RUNS,
  );
});

// ---------------------------------------------------------------------------------------------
// Base64.

Deno.test("decodeBase64Url() is strict but ignores the unused bits of the last character", () => {
  assert.deepStrictEqual(decodeBase64Url("ZVPxAA"), new Uint8Array([0x65, 0x53, 0xf1, 0]));
  assert.deepStrictEqual(decodeBase64Url("ZVPxAB"), new Uint8Array([0x65, 0x53, 0xf1, 0]));
  assert.deepStrictEqual(decodeBase64Url(""), new Uint8Array());
  for (
    const text of ["A", "ZVPxA", "ZVPxAA==", "ZVPx+A", "ZVPx/A", "ZVP.AA", "ZVP AA", "ZVP\u00e9AA"]
  ) {
    assert.strictEqual(decodeBase64Url(text), undefined, text);
  }
});

Deno.test("decodeBase64() needs Python's padding and the standard alphabet", () => {
  assert.deepStrictEqual(decodeBase64("w6k="), new Uint8Array([0xc3, 0xa9]));
  assert.deepStrictEqual(
    decodeBase64("AAH+/2hlbGxv"),
    new Uint8Array([0, 1, 254, 255, 104, 101, 108, 108, 111]),
  );
  assert.deepStrictEqual(decodeBase64(""), new Uint8Array());
  for (const text of ["w6k", "w6k==", "A===", "====", "w6-_", "w6k=AAAA", "w 6k="]) {
    assert.strictEqual(decodeBase64(text), undefined, text);
  }
});

Deno.test("the base64 encoders round-trip any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepStrictEqual(decodeBase64Url(encodeBase64Url(bytes)), bytes);
      assert.deepStrictEqual(decodeBase64(encodeBase64(bytes)), bytes);
      assert.strictEqual(encodeBase64(bytes), btoa(String.fromCharCode(...bytes)));
    }),
    RUNS,
  );
});
