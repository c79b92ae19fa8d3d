// hawkBit's Direct Device Integration API (/{tenant}/controller/v1/{controllerId}/…), so a
// fleet already running a DDI client (SWUpdate's suricatta) can move to sluice untouched.
// Authentication: `TargetToken <device token>` or `GatewayToken <tenant gateway token>`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { createHash } from 'node:crypto';
import {
  ActionParams,
  ArtifactParams,
  Binary,
  CancelAction,
  ConfigData,
  ControllerBase,
  ControllerParams as Params,
  DeploymentBase,
  DeploymentQuery,
  errors,
  Feedback,
  NoContent,
  type ControllerBaseType,
  type DeploymentBaseType,
} from '../../protocol/index.js';
import { SluiceError } from '../errors.js';
import { hashToken } from '../auth/tokens.js';
import type { Device } from '../storage/repositories/records.js';
import { sendArtifact } from '../http/artifact-delivery.js';
import { legacyDigestsOf } from '../services/legacy-digests.js';
import { controllerState, recordFeedback, updateConfigData } from '../services/ddi.js';
import { deploymentHandling, pollingSleep } from '../domain/ddi.js';
import { pollAfterSeconds } from '../domain/polling.js';
import { releaseMisfit } from '../domain/release-fit.js';

const ddiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;
  const tenant = options.ddiTenant;

  /** The controller the request may act for, or a 401/404 with the DESIGN.md error shape. */
  const authorize = async (request: FastifyRequest & { params: { tenant: string; controllerId: string } }): Promise<Device> => {
    if (request.params.tenant.toLowerCase() !== tenant.toLowerCase())
      throw new SluiceError('not_found', `no tenant "${request.params.tenant}"`);
    const match = /^(TargetToken|GatewayToken)\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new SluiceError('unauthorized', 'send "Authorization: TargetToken <token>" or "GatewayToken <token>"');
    // Tokens are looked up first; only unknown ones count against the address (plugins/authentication.ts).
    const device = await store.devices.get(request.params.controllerId);
    if (match[1].toLowerCase() === 'gatewaytoken') {
      const gateway = await store.ddi.gatewayToken(hashToken(match[2]));
      if (!gateway || gateway.tenant.toLowerCase() !== tenant.toLowerCase())
        throw app.tokenGuard.unknownToken(request, 'unknown or revoked gateway token');
      // A gateway acts for its own customer's devices only; another's answer as if absent.
      if (!device || device.customer !== gateway.customer)
        throw new SluiceError('not_found', `no controller "${request.params.controllerId}"`);
      return device;
    }
    const principal = await app.resolveToken(match[2]);
    if (!principal) throw app.tokenGuard.unknownToken(request, 'unknown or revoked target token');
    if (principal.kind !== 'device' || principal.id !== request.params.controllerId || !device)
      throw new SluiceError('unauthorized', "the target token is not this controller's");
    return device;
  };
  const base = (request: FastifyRequest, controllerId: string) => {
    const origin = options.publicUrl ?? `${request.protocol}://${request.headers.host}`;
    return `${origin}/${tenant}/controller/v1/${encodeURIComponent(controllerId)}`;
  };
  // Presence only: never moves last_seen_at backwards, keeps the reported state.
  const touch = (device: Device) => store.devices.recordPresence([{ device: device.id, at: options.now(), state: null }]);

  app.get(
    '/:tenant/controller/v1/:controllerId',
    {
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'Controller base: polling interval and links to the open actions',
        security: [],
        description:
          'Authorization: TargetToken <device token> or GatewayToken <gateway token>. No deployment is linked outside the confirmed window.',
        params: Params,
        response: { 200: ControllerBase, ...errors(400, 401, 404, 429) },
      },
    },
    async (request): Promise<ControllerBaseType> => {
      const device = await authorize(request);
      await touch(device);
      const now = options.now();
      const state = await controllerState(context, device, now);
      const links: ControllerBaseType['_links'] = {};
      const url = base(request, device.id);
      if (state.cancel) links.cancelAction = { href: `${url}/cancelAction/${state.cancel}` };
      // Outside the confirmed window no deployment is linked at all: DDI clients such as
      // SWUpdate treat update=skip as done, and the device must download nothing before it.
      if (state.deployment && state.assignment?.installAllowed) {
        // The ?c= hash changes when what the deployment says changes, as hawkBit's does.
        const digest = createHash('sha1').update(`${state.assignment.installAllowed}`).digest('hex').slice(0, 8);
        links.deploymentBase = { href: `${url}/deploymentBase/${state.deployment}?c=${digest}` };
      }
      links.configData = { href: `${url}/configData` };
      const sleep = pollAfterSeconds({
        baseSeconds: options.pollSeconds,
        window: state.assignment?.window,
        installAllowed: state.assignment?.installAllowed,
        now,
      });
      return { config: { polling: { sleep: pollingSleep(sleep) } }, _links: links };
    },
  );

  app.get(
    '/:tenant/controller/v1/:controllerId/deploymentBase/:actionId',
    {
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'The deployment of an action: what to download and whether to install now',
        security: [],
        params: ActionParams,
        querystring: DeploymentQuery,
        response: { 200: DeploymentBase, ...errors(400, 401, 404, 410, 429) },
      },
    },
    async (request): Promise<DeploymentBaseType> => {
      const device = await authorize(request);
      const action = await store.ddi.action(request.params.actionId);
      if (!action || action.device !== device.id)
        throw new SluiceError('not_found', `no action ${request.params.actionId} for this controller`);
      if (action.status !== 'open') throw new SluiceError('action_closed', `action ${action.id} is ${action.status}`);
      const state = await controllerState(context, device, options.now());
      if (state.deployment !== action.id || !state.assignment) throw new SluiceError('not_found', `action ${action.id} is not offered now`);
      const release = (await store.releases.get(state.assignment.release))!;
      const url = base(request, device.id);
      const handling = deploymentHandling(state.assignment.installAllowed);
      await store.ddi.rememberHandling(action.id, handling.update);
      const filename = release.manifest.signed.artifact.name;
      const artifactUrl = `${url}/softwaremodules/${release.id}/artifacts/${encodeURIComponent(filename)}`;
      const { sha1, md5 } = await legacyDigestsOf(context, release);
      return {
        id: String(action.id),
        deployment: {
          ...handling,
          chunks: [
            {
              part: 'os',
              version: release.version,
              name: release.product,
              artifacts: [
                {
                  filename,
                  size: release.size,
                  hashes: { sha1, md5, sha256: release.sha256 },
                  _links: {
                    download: { href: artifactUrl },
                    'download-http': { href: artifactUrl },
                    md5sum: { href: `${artifactUrl}.MD5SUM` },
                    'md5sum-http': { href: `${artifactUrl}.MD5SUM` },
                  },
                },
              ],
            },
          ],
        },
      };
    },
  );

  app.post(
    '/:tenant/controller/v1/:controllerId/deploymentBase/:actionId/feedback',
    {
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'Feedback on a deployment: progress, success or failure',
        security: [],
        params: ActionParams,
        body: Feedback,
        response: { 200: NoContent, ...errors(400, 401, 404, 410, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const device = await authorize(request);
      await recordFeedback(context, device.id, request.params.actionId, 'deployment', request.body.status);
      return reply.status(200).send(null);
    },
  );

  app.get(
    '/:tenant/controller/v1/:controllerId/cancelAction/:actionId',
    {
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'A cancel action: the device should stop the named action',
        security: [],
        params: ActionParams,
        response: { 200: CancelAction, ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const device = await authorize(request);
      const action = await store.ddi.action(request.params.actionId);
      if (!action || action.device !== device.id || action.status !== 'canceling')
        throw new SluiceError('not_found', `no cancel action ${request.params.actionId} for this controller`);
      return { id: String(action.id), cancelAction: { stopId: String(action.id) } };
    },
  );

  app.post(
    '/:tenant/controller/v1/:controllerId/cancelAction/:actionId/feedback',
    {
      schema: {
        tags: ['hawkBit DDI'],
        summary: 'Feedback on a cancel action',
        security: [],
        params: ActionParams,
        body: Feedback,
        response: { 200: NoContent, ...errors(400, 401, 404, 410, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const device = await authorize(request);
      await recordFeedback(context, device.id, request.params.actionId, 'cancel', request.body.status);
      return reply.status(200).send(null);
    },
  );

  app.put(
    '/:tenant/controller/v1/:controllerId/configData',
    {
      schema: {
        tags: ['hawkBit DDI'],
        params: Params,
        summary: "The device's attributes (configData)",
        security: [],
        body: ConfigData,
        response: { 200: NoContent, ...errors(400, 401, 404, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const device = await authorize(request);
      await updateConfigData(context, device.id, request.body.mode ?? 'merge', request.body.data);
      return reply.status(200).send(null);
    },
  );

  app.route({
    method: ['GET', 'HEAD'],
    url: '/:tenant/controller/v1/:controllerId/softwaremodules/:moduleId/artifacts/:filename',
    schema: {
      tags: ['hawkBit DDI'],
      summary: 'Download an artifact, or its .MD5SUM (Range, ETag)',
      security: [],
      params: ArtifactParams,
      produces: ['application/octet-stream', 'text/plain'],
      response: {
        200: Binary('the artifact, or its MD5SUM line'),
        206: Binary('the requested range of the artifact'),
        307: Type.Null({ description: 'with --artifact-delivery redirect: Location is a pre-signed object-store URL' }),
        ...errors(400, 401, 404, 410, 416, 429),
      },
    },
    handler: async (request, reply) => {
      const device = await authorize(request);
      const release = await store.releases.get(request.params.moduleId);
      if (!release || !(await store.releases.deviceMayDownload(device.id, release.id)))
        throw new SluiceError('not_found', 'no such artifact for this controller');
      // Yank means stop; and a release that does not fit the controller is never handed to it.
      if (release.yankedAt)
        throw new SluiceError(
          'release_yanked',
          `release ${release.product} ${release.version} was yanked: ${release.yankReason || 'no reason given'}`,
        );
      if (releaseMisfit(release.manifest.signed, device)) throw new SluiceError('not_found', 'no such artifact for this controller');
      const name = release.manifest.signed.artifact.name;
      if (request.params.filename === `${name}.MD5SUM`)
        return reply.type('text/plain').send(`${(await legacyDigestsOf(context, release)).md5}  ${name}\n`);
      if (request.params.filename !== name) throw new SluiceError('not_found', `no artifact "${request.params.filename}"`);
      await store.audit.record({
        at: options.now(),
        actor: `device:${device.id}`,
        action: 'ddi.download',
        subject: `release:${release.id}`,
        details: { range: request.headers.range ?? null },
      });
      return sendArtifact(context, request, reply, { sha256: release.sha256, size: release.size, name });
    },
  });
};
export default ddiRoutes;
