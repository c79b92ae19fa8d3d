// A release's chunk index (docs/delta-updates.md): uploaded by `sluice release publish` after
// the artifact, served to the devices the artifact is served to, by the same delivery
// function (streamed, X-Accel-Redirect or a pre-signed URL). The index's SHA-256 and size are
// in the signed manifest: the server refuses any other bytes, and the device checks again.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { Binary, errors, IdParams, NoContent } from '../../protocol/index.js';
import { SluiceError } from '../errors.js';
import { actorOf } from '../auth/principal.js';
import { sendArtifact } from '../http/artifact-delivery.js';
import { releaseMisfit } from '../domain/release-fit.js';
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

  app.put(
    '/api/v1/releases/:id/chunk-index',
    {
      config: { access: ['release'] },
      schema: {
        tags: ['releases'],
        params: IdParams,
        consumes: ['application/octet-stream'],
        summary: "Upload a release's signed chunk index (for delta updates)",
        description:
          "The chunk index made by `sluice release sign` (application/octet-stream). Its size and SHA-256 must be the manifest's `chunkIndex`; uploading it again is harmless.",
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const release = await releaseOf(context, request.params.id);
      const signed = release.manifest.signed.chunkIndex;
      if (!signed)
        throw new SluiceError(
          'chunk_index_not_signed',
          `the manifest of ${release.product} ${release.version} names no chunk index; sign the release with one`,
        );
      if (!(request.body && typeof (request.body as Readable).pipe === 'function'))
        throw new SluiceError('bad_request', 'send the chunk index as application/octet-stream');
      const ingested = await context.artifacts.ingest(request.body as Readable, signed.sha256, {
        maxBytes: signed.size,
        tooLong: () => new SluiceError('size_mismatch', `the chunk index is longer than the manifest's ${signed.size} bytes`),
      });
      try {
        if (ingested.size !== signed.size)
          throw new SluiceError('size_mismatch', `the chunk index has ${ingested.size} bytes; the manifest says ${signed.size}`);
        if (ingested.sha256 !== signed.sha256)
          throw new SluiceError('digest_mismatch', `the chunk index's sha256 is ${ingested.sha256}; the manifest says ${signed.sha256}`);
        await context.artifacts.commit(ingested, signed.sha256);
      } catch (error) {
        await context.artifacts.discard(ingested);
        throw error;
      }
      const now = context.options.now();
      await context.store.transaction(async (tx) => {
        // Decided once: only the upload that marks it is audited.
        if (!(await tx.releases.markChunkIndex(release.id, signed.sha256))) return;
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'release.chunk_index',
          subject: `release:${release.id}`,
          details: { sha256: signed.sha256, size: signed.size },
        });
      });
      return reply.status(204).send(null);
    },
  );

  app.route({
    method: ['GET', 'HEAD'],
    url: '/api/v1/releases/:id/chunk-index',
    config: { access: ['staff', 'device'] },
    schema: {
      tags: ['releases'],
      params: IdParams,
      summary: "Download a release's chunk index (Range, ETag)",
      produces: ['application/octet-stream'],
      description:
        "The release's chunk index, to whoever may fetch its artifact; delivered like the artifact (Range, ETag, redirect). 404 chunk_index_unavailable when the release has none.",
      response: {
        200: Binary('the chunk index'),
        206: Binary('the requested range of the chunk index'),
        304: NoContent,
        307: Type.Null({ description: 'with --artifact-delivery redirect: Location is a pre-signed object-store URL' }),
        ...errors(400, 401, 403, 404, 410, 416, 429),
      },
    },
    handler: async (request, reply) => {
      const release = await releaseOf(context, request.params.id);
      const principal = request.principal;
      // The artifact route's rules, in the same order (server/routes/releases.ts).
      if (principal?.kind === 'device') {
        if (!(await context.store.releases.deviceMayDownload(principal.id, release.id))) {
          throw new SluiceError('not_assigned', `device ${principal.id} is not assigned release ${release.id}`);
        }
        if (release.yankedAt)
          throw new SluiceError(
            'release_yanked',
            `release ${release.product} ${release.version} was yanked: ${release.yankReason || 'no reason given'}`,
          );
        const misfit = releaseMisfit(release.manifest.signed, principal);
        if (misfit)
          throw new SluiceError('not_assigned', `release ${release.id} does not fit device ${principal.id}: ${misfit.message}`, {
            reason: misfit.reason,
          });
      }
      const signed = release.manifest.signed.chunkIndex;
      const stored = await context.store.releases.chunkIndex(release.id);
      if (!signed || stored !== signed.sha256) {
        throw new SluiceError(
          'chunk_index_unavailable',
          `release ${release.product} ${release.version} has no chunk index${signed ? ' uploaded yet' : ''}: download the artifact`,
        );
      }
      return sendArtifact(context, request, reply, {
        sha256: signed.sha256,
        size: signed.size,
        name: `${release.manifest.signed.artifact.name}.chunks`,
      });
    },
  });
};
export default releaseIndexRoutes;
