import { run } from './program';

run(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
).then((code) => {
  process.exitCode = code;
});
