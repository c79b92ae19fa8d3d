// Trust roots (DESIGN.md, "Trust model"): root.json and its rotations.
import { Type, type Static } from 'typebox';
import { Signature, Signed, signedPayloadTitle, Timestamp } from './common.js';

const RoleKeys = Type.Object({ keyids: Type.Array(Type.String()), threshold: Type.Integer({ minimum: 1 }) });
export const Root = Type.Object(
  {
    type: Type.Literal('root'),
    version: Type.Integer({ minimum: 1 }),
    expires: Timestamp,
    keys: Type.Record(
      Type.String(),
      Type.Object({ keytype: Type.Literal('ed25519'), public: Type.String({ description: 'raw public key, hex' }) }),
    ),
    roles: Type.Object({ root: RoleKeys, release: RoleKeys, server: RoleKeys }),
  },
  { additionalProperties: true, title: signedPayloadTitle('root') },
);
export const SignedRoot = Signed(Root);
export type SignedRootType = Static<typeof SignedRoot>;

/**
 * A rotation as sent: its signatures decide, so the body is only checked to be a signed
 * document here and the trust store refuses a malformed root by name (signature_invalid).
 */
export const RootRotation = Type.Object(
  {
    signed: Type.Object(
      {},
      { additionalProperties: true, title: signedPayloadTitle('root'), description: 'the next root.json, as the trust store checks it' },
    ),
    signatures: Type.Array(Signature, { maxItems: 64 }),
  },
  { additionalProperties: false },
);
export const RootFileParams = Type.Object({ file: Type.String({ pattern: '^[0-9]{1,9}\\.json$', description: 'N.json' }) });
export const RotationReply = Type.Object({ version: Type.Integer() });
