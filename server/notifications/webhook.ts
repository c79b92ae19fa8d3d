// One webhook delivery: a JSON POST of the event, signed with the webhook's secret
// (X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the raw body>), named by a delivery id that
// stays the same on every retry (X-Sluice-Delivery), so a receiver can drop a repeat. Only a
// 2xx answer delivers it; a redirect is not followed (undici's request never follows one).
import { createHmac } from 'node:crypto';
import { request } from 'undici';

export function webhookSignature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Only absolute http(s) URLs without credentials in them. */
export function webhookUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be http or https, not ${url.protocol.replace(':', '')}`;
  if (url.username || url.password) return 'may not carry a user or password; authenticate with the signature';
  return null;
}

/** `permanent`: retrying cannot help (the webhook was deleted), so the delivery fails now. */
export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  permanent?: boolean;
}

export async function postWebhook(input: {
  url: string;
  secret: string;
  event: string;
  delivery: string;
  body: string;
  timeoutMs: number;
}): Promise<AttemptOutcome> {
  const problem = webhookUrlProblem(input.url);
  if (problem) return { ok: false, statusCode: null, error: `url ${problem}` };
  try {
    const response = await request(input.url, {
      method: 'POST',
      body: input.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'sluice-webhooks/1',
        'x-sluice-event': input.event,
        'x-sluice-delivery': input.delivery,
        'x-sluice-signature': webhookSignature(input.secret, input.body),
      },
      headersTimeout: input.timeoutMs,
      bodyTimeout: input.timeoutMs,
      signal: AbortSignal.timeout(input.timeoutMs),
    });
    // The answer's body is not read beyond a little, and never kept.
    await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return {
      ok,
      statusCode: response.statusCode,
      error: ok
        ? null
        : `answered ${response.statusCode}${response.statusCode >= 300 && response.statusCode < 400 ? ' (redirects are not followed)' : ''}`,
    };
  } catch (error) {
    return { ok: false, statusCode: null, error: (error as Error).message || String(error) };
  }
}
