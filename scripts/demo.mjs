// `npm run demo`: a real VS Code workbench (code-server) on 127.0.0.1 with CNN Lens installed and the end-to-end
// tests' workspace of sample photos open; prints the URL and the first steps, and runs until Ctrl+C. Reuses the
// e2e harness; code-server comes from e2e/installCodeServer.sh (no root, no browser).
import path from 'node:path';
import { freePort, prepareRun, repoRoot, startCodeServer } from '../e2e/codeServer.mjs';
import { demoBanner } from './demoBanner.mjs';

const port = Number(process.env.PORT) || (await freePort());
const dirs = prepareRun(path.join(repoRoot, 'e2e/.run/demo'), { installExtension: true });
const server = await startCodeServer({ dirs, port, logFile: path.join(dirs.root, 'code-server.log') });
console.log(`\n${demoBanner(repoRoot, `${server.url}/?folder=${encodeURIComponent(dirs.workspace)}`)}\n`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
