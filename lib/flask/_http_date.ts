/**
 * The date inside Flask's ` d` tag: Werkzeug's `http_date` on the way out, `parse_date` (Python's
 * `email.utils.parsedate_to_datetime`) on the way in, limited to the one spelling Flask writes.
 *
 * @module
 */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
] as const;

const FLASK_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;

/** Years Flask reads back as written: `email.utils` turns years below 100 into 19xx or 20xx. */
const FIRST_YEAR = 100;
const LAST_YEAR = 9999;

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * Formats a date as Werkzeug's `http_date`: UTC, whole seconds (milliseconds are dropped, as
 * Python drops microseconds).
 *
 * @param date A valid date in the years 100 to 9999.
 * @returns For example `Thu, 29 Feb 2024 12:34:56 GMT`.
 * @throws {RangeError} When the date is invalid or outside the years 100 to 9999: Python's
 * `datetime` stops at 9999, and Flask reads years below 100 back as 1969 to 2068.
 *
 * @example Formatting a date for the ` d` tag
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatHttpDate } from "./_http_date.ts";
 *
 * const date = new Date("2024-02-29T12:34:56.789Z");
 * assert.equal(formatHttpDate(date), "Thu, 29 Feb 2024 12:34:56 GMT");
 * ```
 */
export function formatHttpDate(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= FIRST_YEAR && year <= LAST_YEAR)) {
    throw new RangeError(
      `Cannot write a date Flask reads back: year must be ${FIRST_YEAR} to ${LAST_YEAR}, ` +
        `received ${Number.isNaN(year) ? "an invalid date" : year}`,
    );
  }
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ` +
    `${String(year).padStart(4, "0")} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:` +
    `${two(date.getUTCSeconds())} GMT`;
}

/**
 * Parses the date of a ` d` tag as Flask does, for the spelling Flask writes.
 *
 * @param text The tag's string.
 * @returns The date; or `null` for a well-formed but impossible date (30 Feb, 24:00:00), which
 * Flask's `parse_date` also turns into `None`. The weekday is not checked (Python ignores it).
 * @throws {SyntaxError} When `text` is not in Flask's format. Python's parser also takes other
 * zones, two-digit years and loose spacing (or silently gives `None` for garbage); Flask never
 * writes those, so we refuse rather than guess.
 *
 * @example Parsing the ` d` tag
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHttpDate } from "./_http_date.ts";
 *
 * const date = parseHttpDate("Thu, 29 Feb 2024 12:34:56 GMT");
 * assert.equal(date?.toISOString(), "2024-02-29T12:34:56.000Z");
 * assert.equal(parseHttpDate("Fri, 30 Feb 2024 12:34:56 GMT"), null);
 * ```
 */
export function parseHttpDate(text: string): Date | null {
  const match = FLASK_DATE.exec(text);
  if (match === null) throw new SyntaxError("Cannot read a Flask date: not an HTTP date in GMT");
  const day = Number(match[1]);
  const month = MONTHS.indexOf(match[2] as typeof MONTHS[number]);
  let year = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  // email.utils._parsedate_tz: a year below 100 is taken as two digits, 69-99 → 19xx, else 20xx.
  if (year < 100) year += year > 68 ? 1900 : 2000;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, 0);
  // Python's datetime() refuses day 0 or 31 April; setUTCFullYear would roll them over.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month) return null;
  return date;
}
