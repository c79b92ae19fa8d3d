// Types of build/server.mjs for the TypeScript that imports it (tests, benchmarks).
import type { BuildOptions } from 'esbuild';

export const root: string;
export const serverEntry: string;
export function cliBuildOptions(outdir: string): BuildOptions;
export function buildServer(): Promise<void>;
