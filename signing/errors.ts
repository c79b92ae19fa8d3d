// A short hierarchy of signing errors with stable codes (STYLE.md: tuf-js error.ts, undici
// errors), so callers catch a kind, not a string, and the server maps `code` onto its own
// catalogue (server/errors.ts); the agent maps it onto the codes it reports.
export type SigningErrorCode = 'signature_invalid' | 'manifest_invalid' | 'expired' | 'bad_version';

export class SigningError extends Error {
  constructor(
    readonly code: SigningErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad signature, a key the role does not list, or fewer valid signatures than the threshold. */
export class SignatureError extends SigningError {
  constructor(message: string) {
    super('signature_invalid', message);
  }
}

/** A manifest (or root.json) whose shape is wrong; the message names the field. */
export class ManifestInvalidError extends SigningError {
  constructor(message: string) {
    super('manifest_invalid', message);
  }
}

/** A document past its `expires`: a frozen or replayed answer, or a root nobody renewed. */
export class ExpiredError extends SigningError {
  constructor(message: string) {
    super('expired', message);
  }
}

/** A root whose version is not exactly the trusted one plus one (DESIGN.md: walked one by one). */
export class RootVersionError extends SigningError {
  constructor(message: string) {
    super('bad_version', message);
  }
}
