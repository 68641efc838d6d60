// Runs a queue worker from a JSON config in a child process (the tests kill it).
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { runWorker } = require(path.join(__dirname, '..', '..', 'dist', 'queue.cjs'));

runWorker(JSON.parse(readFileSync(process.argv[2], 'utf8'))).then(
  () => process.exit(0),
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);
