// What a notification is addressed by, checked by the same rules everywhere (API, portal):
// an e-mail address by ajv-formats' `email` (what the API's schemas check with), a locale by
// Intl, the formatter the mails are written with.
import { fullFormats } from 'ajv-formats/dist/formats.js';

const emailPattern = fullFormats.email as RegExp;

export const isEmailAddress = (text: string): boolean => text.length <= 320 && emailPattern.test(text);

/** The canonical form of a BCP 47 tag Intl can write dates in ('es-es' → 'es-ES'), or null. */
export function canonicalLocale(text: string): string | null {
  try {
    const [canonical] = Intl.getCanonicalLocales(text);
    if (!canonical) return null;
    // A tag that is well formed but that Intl has no data for falls back silently; refuse it instead.
    return Intl.DateTimeFormat.supportedLocalesOf([canonical]).length === 1 ? canonical : null;
  } catch {
    return null;
  }
}
