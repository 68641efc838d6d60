// Runs a scrape from a JSON config in a child process (the kill-and-resume test kills it).
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { scrape } = require(path.join(__dirname, '..', '..', 'dist', 'index.cjs'));

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
scrape({ ...config, urls: new Map(config.urls) }).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
