// Releases: the signed manifest, what publishing answers and what the release list shows.
import { Type, type Static } from 'typebox';
import { Identifier, Nullable, Signed, signedPayloadTitle, Timestamp } from './common.js';

export const ReleaseManifest = Type.Object(
  {
    type: Type.Literal('release'),
    product: Type.String(),
    version: Type.String({ description: 'semver' }),
    hardware: Type.Array(Type.String()),
    artifact: Type.Object({ name: Type.String(), size: Type.Integer({ minimum: 0 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
    minVersion: Type.Optional(Type.String()),
    fixes: Type.Array(Type.String(), { description: 'fault ids this release fixes' }),
    notes: Type.String(),
    createdAt: Timestamp,
    expires: Type.Optional(Timestamp),
    downgrade: Type.Optional(Type.Boolean()),
    replaces: Type.Optional(Type.String({ description: 'semver range of the versions a downgrade may replace' })),
  },
  { additionalProperties: true, title: signedPayloadTitle('release manifest') },
);
export const SignedManifest = Signed(ReleaseManifest);

export const ReleaseSummary = Type.Object({
  id: Type.String(),
  product: Type.String(),
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
});
export type ReleaseSummaryType = Static<typeof ReleaseSummary>;

export const Release = Type.Object({
  id: Type.String(),
  product: Type.String(),
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  hardware: Type.Array(Type.String()),
  fixes: Type.Array(Type.String()),
  notes: Type.String(),
  publishedAt: Timestamp,
  publishedBy: Type.String(),
  yankedAt: Nullable(Timestamp),
  yankReason: Nullable(Type.String()),
  manifest: SignedManifest,
});
export type ReleaseType = Static<typeof Release>;

export const ReleaseQuery = Type.Object({ product: Type.Optional(Identifier) }, { additionalProperties: false });
export const YankBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
