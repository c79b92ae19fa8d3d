// Releases: publish (multipart: manifest then artifact), list, get, yank, download.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  Binary,
  errors,
  IdParams,
  NoContent,
  Release,
  ReleaseQuery,
  ReleaseSummary,
  YankBody,
  type ReleaseType,
} from '../../protocol/index.js';
import { publishRelease } from '../services/publish-release.js';
import { yankRelease } from '../services/yank-release.js';
import { legacyDigestsOf } from '../services/legacy-digests.js';
import type { Release as ReleaseRecord } from '../storage/repositories/records.js';
import { actorOf } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { sendArtifact } from '../http/artifact-delivery.js';
import { checkMayFetchRelease } from '../services/release-access.js';
import { multipartError, requireMultipart } from '../http/multipart.js';

export function toReleaseDetail(release: ReleaseRecord): ReleaseType {
  const signed = release.manifest.signed;
  return {
    id: release.id,
    product: release.product,
    version: release.version,
    sha256: release.sha256,
    size: release.size,
    hardware: signed.hardware,
    fixes: signed.fixes ?? [],
    notes: signed.notes ?? '',
    publishedAt: release.publishedAt.toISOString(),
    publishedBy: release.publishedBy,
    yankedAt: release.yankedAt?.toISOString() ?? null,
    yankReason: release.yankReason,
    manifest: release.manifest,
  };
}

const releasesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;

  app.post(
    '/api/v1/releases',
    {
      config: { access: ['release'] },
      schema: {
        tags: ['releases'],
        summary: 'Publish a signed release',
        consumes: ['multipart/form-data'],
        description:
          'Multipart upload: the part "manifest" (the signed manifest JSON) first, then the file part "artifact". On any error nothing is stored.',
        response: { 201: ReleaseSummary, ...errors(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      requireMultipart(request, 'the parts "manifest" then "artifact"');
      const parts = request.parts({
        limits: { fileSize: options.maxArtifactBytes, files: 2, fields: 2, parts: 3, fieldSize: 1024 * 1024 },
      });
      // Once the body is in, the client waits on the server: an object store completing a
      // gibibyte's multipart upload can take longer than the stall timeout, which would cut the
      // answer off. The timeout is back once the answer has gone.
      const received = () => {
        const socket = request.raw.socket;
        // An injected request (tests, light-my-request) has no real socket to time.
        if (typeof socket?.setTimeout !== 'function') return;
        const stall = socket.timeout ?? 0;
        socket.setTimeout(0);
        reply.raw.once('finish', () => socket.setTimeout(stall));
      };
      const release = await publishRelease(context, parts, actorOf(request.principal), { received }).catch((error: unknown) => {
        throw multipartError(error);
      });
      legacyDigestsOf(context, release).catch((error: Error) =>
        request.log.warn({ err: error }, 'SHA-1/MD5 for DDI clients not computed now; a DDI answer computes them'),
      );
      return reply
        .status(201)
        .send({ id: release.id, product: release.product, version: release.version, sha256: release.sha256, size: release.size });
    },
  );

  app.get(
    '/api/v1/releases',
    {
      config: { access: ['staff'] },
      schema: {
        tags: ['releases'],
        summary: 'List releases',
        querystring: ReleaseQuery,
        response: { 200: Type.Array(Release), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => (await store.releases.list(request.query.product)).map(toReleaseDetail),
  );

  app.get(
    '/api/v1/releases/:id',
    {
      config: { access: ['staff'] },
      schema: {
        tags: ['releases'],
        summary: 'One release, its signed manifest included',
        params: IdParams,
        response: { 200: Release, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const release = await store.releases.get(request.params.id);
      if (!release) throw new SluiceError('not_found', `no release "${request.params.id}"`);
      return toReleaseDetail(release);
    },
  );

  app.post(
    '/api/v1/releases/:id/yank',
    {
      config: { access: ['release', 'admin'] },
      schema: {
        tags: ['releases'],
        params: IdParams,
        summary: 'Yank a release: devices stop fetching it, its live plans pause',
        body: YankBody,
        response: { 200: Release, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => {
      const yanked = await yankRelease(context, request.params.id, request.body.reason ?? '', actorOf(request.principal));
      return toReleaseDetail(yanked);
    },
  );

  // GET and HEAD: staff, and devices a confirmed plan assigns this release to.
  app.route({
    method: ['GET', 'HEAD'],
    url: '/api/v1/releases/:id/artifact',
    config: { access: ['staff', 'device'] },
    schema: {
      tags: ['releases'],
      params: IdParams,
      summary: 'Download the artifact (Range, ETag)',
      produces: ['application/octet-stream'],
      description:
        'The artifact bytes. Range → 206, unsatisfiable → 416; ETag is the sha256; If-None-Match → 304. Devices get 410 release_yanked once the release is yanked.',
      response: {
        200: Binary('the artifact'),
        206: Binary('the requested range of the artifact'),
        304: NoContent,
        307: Type.Null({
          description: 'with --artifact-delivery redirect: Location is a pre-signed object-store URL (no token needed there)',
        }),
        ...errors(400, 401, 403, 404, 410, 416, 429),
      },
    },
    handler: async (request, reply) => {
      const release = await store.releases.get(request.params.id);
      if (!release) throw new SluiceError('not_found', `no release "${request.params.id}"`);
      await checkMayFetchRelease(store, request.principal, release);
      return sendArtifact(context, request, reply, {
        sha256: release.sha256,
        size: release.size,
        name: release.manifest.signed.artifact.name,
      });
    },
  });
};
export default releasesRoutes;
