// Release publishing (DESIGN.md, "Trust model"): the server refuses an upload whose manifest
// does not verify or whose bytes do not match it, and on any error nothing is stored.
import { randomUUID } from 'node:crypto';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import semver from 'semver';
import type { SluiceContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { verifyManifest, type ReleaseManifest } from '../../signing/manifest.js';
import { SigningError } from '../../signing/errors.js';
import type { SignedDocument } from '../../signing/signed.js';
import type { Release } from '../storage/repositories/records.js';

const maxManifestBytes = 1024 * 1024;

/** `received`: called once the whole body is in, before the (possibly long) commit to the store. */
export async function publishRelease(
  context: SluiceContext,
  parts: AsyncIterableIterator<Multipart>,
  actor: string,
  hooks: { received?: () => void } = {},
): Promise<Release> {
  const now = context.options.now();
  const first = await parts.next();
  if (first.done) throw new SluiceError('bad_request', 'the upload is empty: send the "manifest" part, then the "artifact" part');
  const manifestDocument = await readManifestPart(first.value);
  const manifest = await verifyUploadedManifest(context, manifestDocument, now);

  const second = await parts.next();
  if (second.done || second.value.type !== 'file' || second.value.fieldname !== 'artifact') {
    throw new SluiceError('bad_request', 'the "artifact" file part must follow the "manifest" part');
  }
  const ingested = await context.artifacts
    .ingest(second.value.file, manifest.artifact.sha256, {
      // Endless data: stop reading as soon as the bytes exceed what the signed manifest promised.
      maxBytes: manifest.artifact.size,
      tooLong: () => new SluiceError('size_mismatch', `the artifact is longer than the manifest's ${manifest.artifact.size} bytes`),
    })
    .catch((error: unknown) => {
      throw translateStreamError(error);
    });

  try {
    if ((second.value as MultipartFile).file.truncated)
      throw new SluiceError('payload_too_large', "the artifact exceeds the server's size limit");
    const extra = await parts.next();
    if (!extra.done) throw new SluiceError('bad_request', `unexpected part "${extra.value.fieldname}" after the artifact`);
    hooks.received?.();
    if (ingested.size !== manifest.artifact.size) {
      throw new SluiceError('size_mismatch', `the artifact has ${ingested.size} bytes; the manifest says ${manifest.artifact.size}`);
    }
    if (ingested.sha256 !== manifest.artifact.sha256) {
      throw new SluiceError(
        'digest_mismatch',
        `the artifact's sha256 is ${ingested.sha256}; the manifest says ${manifest.artifact.sha256}`,
      );
    }
    const release: Release = {
      id: randomUUID(),
      product: manifest.product,
      version: manifest.version,
      manifest: manifestDocument as SignedDocument<ReleaseManifest>,
      // The DDI clients' SHA-1 and MD5 follow, off the upload's path (legacy-digests.ts).
      sha256: ingested.sha256,
      size: ingested.size,
      sha1: '',
      md5: '',
      publishedAt: now,
      publishedBy: actor,
      yankedAt: null,
      yankReason: null,
    };
    const created = await context.artifacts.commit(ingested, ingested.sha256);
    try {
      await context.store.transaction(async (tx) => {
        // The unique (product, version) refuses a concurrent upload of the same version that committed first.
        await tx.releases.insert(release);
        await tx.audit.record({
          at: now,
          actor,
          action: 'release.publish',
          subject: `release:${release.id}`,
          details: { product: release.product, version: release.version, sha256: release.sha256 },
        });
        await context.events.emit(
          'release.published',
          { release: release.id, product: release.product, version: release.version, fixes: manifest.fixes ?? [], actor, at: now },
          tx,
        );
      });
    } catch (error) {
      // Bytes this upload brought stay only if a release committed meanwhile names them too.
      if (created && !(await context.store.releases.digests()).has(ingested.sha256)) await context.artifacts.remove(ingested.sha256);
      throw error;
    }
    return release;
  } catch (error) {
    await context.artifacts.discard(ingested);
    throw error;
  }
}

async function readManifestPart(part: Multipart): Promise<SignedDocument<unknown>> {
  if (part.fieldname !== 'manifest') {
    throw new SluiceError('bad_request', `the first part must be "manifest", not "${part.fieldname}"`);
  }
  let text: string;
  if (part.type === 'file') {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of part.file) {
      length += chunk.length;
      if (length > maxManifestBytes) throw new SluiceError('payload_too_large', 'the manifest part is over 1 MiB');
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    text = String(part.value);
  }
  try {
    const document = JSON.parse(text);
    if (typeof document !== 'object' || document === null || !('signed' in document) || !Array.isArray(document.signatures)) {
      throw new Error('not a signed document');
    }
    return document;
  } catch {
    throw new SluiceError('manifest_invalid', 'the manifest is not a signed JSON document { signed, signatures }');
  }
}

async function verifyUploadedManifest(context: SluiceContext, document: SignedDocument<unknown>, now: Date): Promise<ReleaseManifest> {
  let manifest: ReleaseManifest;
  try {
    manifest = verifyManifest((await context.trust.current()).root, document, now);
  } catch (error) {
    if (error instanceof SigningError) {
      const code = error.code === 'manifest_invalid' ? 'manifest_invalid' : 'signature_invalid';
      throw new SluiceError(code, error.message);
    }
    throw error;
  }
  if (!semver.valid(manifest.version)) throw new SluiceError('manifest_invalid', `version "${manifest.version}" is not semver`);
  if (!(await context.store.products.get(manifest.product))) throw new SluiceError('unknown_product', `no product "${manifest.product}"`);
  // Refused before any byte is read; the insert refuses again a concurrent upload that won.
  if (await context.store.releases.versionExists(manifest.product, manifest.version)) {
    throw new SluiceError('version_exists', `${manifest.product} ${manifest.version} is already published`);
  }
  return manifest;
}

function translateStreamError(error: unknown): unknown {
  if (error instanceof SluiceError) return error;
  const code = (error as { code?: string })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new SluiceError('payload_too_large', "the artifact exceeds the server's size limit");
  // A client that disconnects mid-upload gets no answer; the temporary file is already gone.
  return error;
}
