// Signed dates (`expires`, `createdAt`) are ISO 8601 date-times with an explicit offset.
// Date.parse alone also accepts "Nov 25 2027" or "2027", whose meaning depends on the engine
// and the local zone: a signer and a device must never read a signed date differently.
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && isoDateTime.test(value) && !Number.isNaN(Date.parse(value));
}
