import { processIo } from './io';
import { run } from './program';

run(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`resnet: ${error.message}\n`);
    process.exitCode = 1;
  },
);
