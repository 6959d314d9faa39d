// `npm start`: build what is needed, then run the example app. Until the kv-store issue lands this is
// one node that joins nothing (its own seed), which it says.
import { spawn, spawnSync } from 'node:child_process';

const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
console.log('Starting one Elastica node (a cluster of one: it joins nothing yet). Ctrl-C stops it.');
const child = spawn(process.execPath, ['dist/apps/kv-store/main.js', '--port', '7001', '--http', '8001', '--seeds', '127.0.0.1:7001'], { stdio: 'inherit' });
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));
