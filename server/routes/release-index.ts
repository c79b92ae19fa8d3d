// A release's chunk index and chunk pack (docs/delta-updates.md): uploaded by `sluice release
// publish` after the artifact, served to the devices the artifact is served to, by the same
// delivery function (streamed, X-Accel-Redirect or a pre-signed URL). Their SHA-256 and size
// are in the signed manifest: the server refuses any other bytes, and the device checks again.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { Binary, errors, IdParams, NoContent } from '../../protocol/index.js';
import { SluiceError } from '../errors.js';
import { actorOf } from '../auth/principal.js';
import { sendArtifact } from '../http/artifact-delivery.js';
import { checkMayFetchRelease } from '../services/release-access.js';
import type { SluiceContext } from '../context.js';
import type { Release } from '../storage/repositories/records.js';

async function releaseOf(context: SluiceContext, id: string): Promise<Release> {
  const release = await context.store.releases.get(id);
  if (!release) throw new SluiceError('not_found', `no release "${id}"`);
  return release;
}

const releaseIndexRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  // The body is the index itself, streamed into the store (this plugin's scope only).
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  // The chunk index, and the chunk pack whose chunks it places: the same upload, each checked
  // against the manifest's own field. The pack goes first (`sluice release publish` sends it
  // so): an index is taken only once the pack it names is stored, so a device that gets the
  // index finds the pack.
  const uploads = [
    {
      route: 'chunk-index',
      field: 'chunkIndex',
      what: 'chunk index',
      action: 'release.chunk_index',
      notSigned: (message: string) => new SluiceError('chunk_index_not_signed', message),
      unavailable: (message: string) => new SluiceError('chunk_index_unavailable', message),
    },
    {
      route: 'chunk-pack',
      field: 'chunkPack',
      what: 'chunk pack',
      action: 'release.chunk_pack',
      notSigned: (message: string) => new SluiceError('chunk_pack_not_signed', message),
      unavailable: (message: string) => new SluiceError('chunk_pack_unavailable', message),
    },
  ] as const;
  for (const upload of uploads) {
    app.put(
      `/api/v1/releases/:id/${upload.route}`,
      {
        config: { access: ['release'] },
        schema: {
          tags: ['releases'],
          params: IdParams,
          consumes: ['application/octet-stream'],
          summary: `Upload a release's signed ${upload.what} (for delta updates)`,
          description: `The ${upload.what} made by \`sluice release sign\` (application/octet-stream). Its size and SHA-256 must be the manifest's \`${upload.field}\`; uploading it again is harmless.${upload.field === 'chunkIndex' ? ' When the manifest names a chunk pack, upload that first (409 otherwise).' : ''}`,
          response: { 204: NoContent, ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429) },
        },
      },
      async (request, reply) => {
        const release = await releaseOf(context, request.params.id);
        const signed = release.manifest.signed[upload.field];
        if (!signed)
          throw upload.notSigned(
            `the manifest of ${release.product} ${release.version} names no ${upload.what}; sign the release with one`,
          );
        const pack = release.manifest.signed.chunkPack;
        if (upload.field === 'chunkIndex' && pack && !(await context.artifacts.stat(pack.sha256)))
          throw new SluiceError('conflict', `upload the chunk pack (${pack.size} bytes) of ${release.product} ${release.version} first`);
        if (!(request.body && typeof (request.body as Readable).pipe === 'function'))
          throw new SluiceError('bad_request', `send the ${upload.what} as application/octet-stream`);
        const ingested = await context.artifacts.ingest(request.body as Readable, signed.sha256, {
          maxBytes: signed.size,
          tooLong: () => new SluiceError('size_mismatch', `the ${upload.what} is longer than the manifest's ${signed.size} bytes`),
        });
        let stored: boolean;
        try {
          if (ingested.size !== signed.size)
            throw new SluiceError('size_mismatch', `the ${upload.what} has ${ingested.size} bytes; the manifest says ${signed.size}`);
          if (ingested.sha256 !== signed.sha256)
            throw new SluiceError(
              'digest_mismatch',
              `the ${upload.what}'s sha256 is ${ingested.sha256}; the manifest says ${signed.sha256}`,
            );
          stored = await context.artifacts.commit(ingested, signed.sha256);
        } catch (error) {
          await context.artifacts.discard(ingested);
          throw error;
        }
        const now = context.options.now();
        await context.store.transaction(async (tx) => {
          // Decided once: only the upload that marks the index (or first stores the pack) is audited.
          if (upload.field === 'chunkIndex' ? !(await tx.releases.markChunkIndex(release.id, signed.sha256)) : !stored) return;
          await tx.audit.record({
            at: now,
            actor: actorOf(request.principal),
            action: upload.action,
            subject: `release:${release.id}`,
            details: { sha256: signed.sha256, size: signed.size },
          });
        });
        return reply.status(204).send(null);
      },
    );
  }

  for (const upload of uploads) {
    app.route({
      method: ['GET', 'HEAD'],
      url: `/api/v1/releases/:id/${upload.route}`,
      config: { access: ['staff', 'device'] },
      schema: {
        tags: ['releases'],
        params: IdParams,
        summary: `Download a release's ${upload.what} (Range, ETag)`,
        produces: ['application/octet-stream'],
        description: `The release's ${upload.what}, to whoever may fetch its artifact; delivered like the artifact (Range, ETag, redirect). 404 ${upload.route.replace('-', '_')}_unavailable when the release has none.`,
        response: {
          200: Binary(`the ${upload.what}`),
          206: Binary(`the requested range of the ${upload.what}`),
          304: NoContent,
          307: Type.Null({ description: 'with --artifact-delivery redirect: Location is a pre-signed object-store URL' }),
          ...errors(400, 401, 403, 404, 410, 416, 429),
        },
      },
      handler: async (request, reply) => {
        const release = await releaseOf(context, request.params.id);
        await checkMayFetchRelease(context.store, request.principal, release);
        const signed = release.manifest.signed[upload.field];
        const index = release.manifest.signed.chunkIndex;
        // Both are served once the index is marked, which needs the pack stored (above).
        const stored = index ? await context.store.releases.chunkIndex(release.id) : null;
        if (!signed || !index || stored !== index.sha256) {
          throw upload.unavailable(
            `release ${release.product} ${release.version} has no ${upload.what}${signed ? ' uploaded yet' : ''}: download the artifact`,
          );
        }
        return sendArtifact(context, request, reply, {
          sha256: signed.sha256,
          size: signed.size,
          name: `${release.manifest.signed.artifact.name}.${upload.field === 'chunkIndex' ? 'chunks' : 'pack'}`,
        });
      },
    });
  }
};
export default releaseIndexRoutes;
