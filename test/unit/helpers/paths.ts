// Locations the unit tests share: the built bundles and model (npm test builds them first).
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DIST = path.join(ROOT, 'dist');
export const WORKER = path.join(DIST, 'worker.js');
export const CLI = path.join(DIST, 'cli.js');
export const IMAGES = path.join(ROOT, 'test', 'fixtures', 'images');
