// The agent's errors carry a machine code naming the step that failed (STYLE.md, undici),
// reported to the server in `detail` so it can count them.
export type AgentErrorCode =
  | 'config_invalid'
  | 'server_unreachable'
  | 'server_error'
  | 'checkin_signature_invalid'
  | 'checkin_nonce_mismatch'
  | 'checkin_expired'
  | 'checkin_wrong_device'
  | 'checkin_malformed'
  | 'root_invalid'
  | 'manifest_invalid'
  | 'manifest_expired'
  | 'hardware_mismatch'
  | 'version_not_newer'
  | 'version_below_minimum'
  | 'product_mismatch'
  | 'replaces_mismatch'
  | 'download_failed'
  | 'download_too_large'
  | 'insufficient_space'
  | 'digest_mismatch'
  | 'size_mismatch'
  | 'up_to_date'
  | 'install_failed'
  | 'install_timeout'
  | 'health_failed'
  | 'health_timeout'
  | 'too_many_attempts'
  | 'cancelled';

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export class ConfigError extends AgentError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('config_invalid', `${field}: ${message}`);
    this.name = 'ConfigError';
  }
}
