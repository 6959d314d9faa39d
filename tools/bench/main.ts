// `npm run bench -- <name> [flags]`: each benchmark is tools/bench/<name>.ts exporting `run(argv)`,
// printing progress as it goes and one JSON object as its last line.
const BENCHES = ['phi', 'rpc', 'ring', 'load'] as const;

const [name, ...argv] = process.argv.slice(2);
if (!name || !(BENCHES as readonly string[]).includes(name)) {
  console.error(`usage: npm run bench -- <${BENCHES.join('|')}> [flags]`);
  process.exit(2);
}
const bench = (await import(`./${name}.js`)) as { run(argv: string[]): Promise<void> | void };
await bench.run(argv);
