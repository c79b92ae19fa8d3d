import { SluiceError } from '../../server/errors.js';

/** The SluiceError code an action throws, or null if it does not throw. */
export function errorCode(action: () => unknown): string | null {
  try {
    action();
    return null;
  } catch (error) {
    return error instanceof SluiceError ? error.code : String(error);
  }
}
