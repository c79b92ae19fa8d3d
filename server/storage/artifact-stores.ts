// Opens the artifact store a server runs on, named by one URL: absent, the data directory's
// artifacts/ and bundles/ as always; `s3://BUCKET/PREFIX`, a bucket reached the way AWS tools
// reach it (AWS_REGION, AWS_ENDPOINT_URL, credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY or the rest of the SDK's default chain).
import { artifactLayout, bundleLayout, createFileArtifactStore, type ArtifactStore } from './artifact-store.js';
import type { S3Location } from './s3-artifact-store.js';
import { dataPaths } from '../config.js';

export interface ArtifactStores {
  /** Release artifacts, under their sha256. */
  artifacts: ArtifactStore;
  /** Diagnostics bundles, under their support session's id. */
  bundles: ArtifactStore;
}

export type ArtifactStoreLocation = { kind: 'filesystem' } | ({ kind: 's3' } & S3Location);

/** The environment variable that names the artifact store when `--artifact-store` is not given. */
export const artifactStoreVariable = 'SLUICE_ARTIFACT_STORE';

export function parseArtifactStoreUrl(url: string | undefined, option = '--artifact-store'): ArtifactStoreLocation {
  if (url === undefined || url === '') return { kind: 'filesystem' };
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match)
    throw new Error(
      `${option} must be s3://BUCKET/PREFIX (a bucket name of 3 to 63 lower-case letters, digits, dots and hyphens), not "${url}"`,
    );
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (!/^[\w.\-/]*$/.test(prefix) || prefix.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`${option}: the prefix "${prefix}" may hold letters, digits, "_", "-", "." and "/" only`);
  }
  return { kind: 's3', bucket: match[1], prefix };
}

/** The store URL of a command: its `--artifact-store` flag, else SLUICE_ARTIFACT_STORE, else none (the data directory). */
export function artifactStoreUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const [url, option] = flag !== undefined ? [flag, '--artifact-store'] : [env[artifactStoreVariable] || undefined, artifactStoreVariable];
  parseArtifactStoreUrl(url, option);
  return url;
}

export async function openArtifactStores(options: { url?: string; dataDir: string; env?: NodeJS.ProcessEnv }): Promise<ArtifactStores> {
  const location = parseArtifactStoreUrl(options.url);
  if (location.kind === 'filesystem') {
    const paths = dataPaths(options.dataDir);
    return {
      artifacts: createFileArtifactStore(paths.artifacts, paths.temporary, artifactLayout),
      bundles: createFileArtifactStore(paths.bundles, paths.temporary, bundleLayout),
    };
  }
  // Loaded only here: the AWS SDK is large, and a server on the data directory never needs it.
  const { createS3Client, createS3ArtifactStore, openS3ArtifactStore, s3ConnectionFrom } = await import('./s3-artifact-store.js');
  const connection = s3ConnectionFrom(options.env ?? process.env);
  const client = createS3Client(connection);
  try {
    const artifacts = await openS3ArtifactStore({ location, connection, layout: artifactLayout, client });
    const bundles = createS3ArtifactStore({ location, connection, layout: bundleLayout, client });
    // The two share one client (one pool of sockets); closing the first closes it.
    return { artifacts: { ...artifacts, close: async () => client.destroy() }, bundles };
  } catch (error) {
    client.destroy();
    throw error;
  }
}
