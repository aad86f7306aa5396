// `npm run demo`: a real VS Code workbench (code-server) on 127.0.0.1 with CNN Lens installed and a
// folder of sample images open; prints the URL and runs until Ctrl+C. Reuses the e2e harness.
import path from 'node:path';
import { freePort, prepareRun, repoRoot, startCodeServer } from '../e2e/codeServer.mjs';

const port = Number(process.env.PORT) || (await freePort());
const dirs = prepareRun(path.join(repoRoot, 'e2e/.run/demo'), { installExtension: true });
const server = await startCodeServer({ dirs, port, logFile: path.join(dirs.root, 'code-server.log') });
console.log(`\nCNN Lens demo: open ${server.url}/?folder=${encodeURIComponent(dirs.workspace)}`);
console.log('Right-click an image in the Explorer → "Classify with CNN Lens". Ctrl+C stops the server.\n');
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
