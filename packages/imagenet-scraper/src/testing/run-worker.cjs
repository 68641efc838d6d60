// Runs a queue worker from a JSON config in a child process (the tests kill it, or stop it with SIGTERM).
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { runWorker } = require(path.join(__dirname, '..', '..', 'dist', 'queue.cjs'));

const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
runWorker({ ...JSON.parse(readFileSync(process.argv[2], 'utf8')), signal: stop.signal }).then(
  () => process.exit(0),
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);
