import { execFileSync } from 'node:child_process';

/** Tests load the built server and browser bundles from dist/: build them fresh (about a second). */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
