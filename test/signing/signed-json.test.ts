// signDocumentJson: the server's check-in answer as JSON text whose `signed` part is the very
// canonical bytes that were signed. It must be the document signDocument makes, and verify.
import t from 'tap';
import { signDocument, signDocumentJson, verifyThreshold } from '../../signing/signed.js';
import { canonicalize } from '../../signing/canonical.js';
import { keyIdOf, rawPublicKey } from '../../signing/keys.js';
import { newKeys } from './helpers.js';

const answer = {
  type: 'checkin',
  deviceId: 'emu-0001',
  nonce: 'ab'.repeat(16),
  serverTime: '2026-11-25T00:00:00.000Z',
  pollAfterSeconds: 300,
  assignment: { id: 'p1', manifest: { signed: { notes: 'fixes “ü” & \u0007' }, signatures: [] } },
  diagnostics: null,
};

t.test('parses to what signDocument makes, for one key and for two', async (t) => {
  for (const keys of [newKeys(1), newKeys(2)]) {
    // Ed25519 is deterministic, so both functions produce the same signatures.
    t.same(JSON.parse(signDocumentJson(answer, keys)), signDocument(answer, keys));
  }
});

t.test('its signed part is the canonical text itself, and it verifies', async (t) => {
  const [key] = newKeys(1);
  const text = signDocumentJson(answer, [key]);
  t.ok(text.startsWith(`{"signed":${canonicalize(answer)},"signatures":[`));
  const keyid = keyIdOf(key);
  t.same(
    verifyThreshold(
      JSON.parse(text),
      { [keyid]: { keytype: 'ed25519', public: rawPublicKey(key).toString('hex') } },
      { keyids: [keyid], threshold: 1 },
      'server',
    ),
    [keyid],
  );
});

t.test('what canonical JSON cannot hold is refused, as signDocument refuses it', async (t) => {
  const [key] = newKeys(1);
  t.throws(() => signDocumentJson({ value: Number.NaN }, [key]), /cannot hold/);
});
