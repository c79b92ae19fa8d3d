// A short hierarchy of signing errors with stable codes (STYLE.md: tuf-js error.ts, undici
// errors), so callers catch a kind and the server maps `code` onto its catalogue.
export class SigningError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** A bad signature, an unknown key, or fewer valid signatures than the threshold. */
export class SignatureError extends SigningError {
  constructor(message: string) { super('signature_invalid', message); }
}
/** A document whose shape is wrong; the message names the field. */
export class ManifestInvalidError extends SigningError {
  constructor(message: string) { super('manifest_invalid', message); }
}
export class ExpiredError extends SigningError {
  constructor(message: string) { super('expired', message); }
}
/** A root whose version does not follow the trusted one. */
export class RootVersionError extends SigningError {
  constructor(message: string) { super('bad_version', message); }
}
