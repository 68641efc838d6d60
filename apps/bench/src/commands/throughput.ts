import { type BackendChoice, configureBackend, useBackend } from '@resnet-ts/backends';
import { describeMachine, type Precision, type ThroughputResult } from '@resnet-ts/train';
import { fixed, markdownTable } from '../markdown';
import { measureIsolated, type PeerResult, runPeer } from '../measure';
import { modelList } from '../models';
import { resultsDir, writeResult } from '../results';

export interface ThroughputFlags {
  models: string;
  batch?: number;
  size?: number;
  backend: string;
  precision: Precision;
  threads?: number;
  /** Shortcut option of the CIFAR ResNets (Keras's peer builds B only). */
  shortcut?: string;
  steps: number;
  warmup: number;
  rounds: number;
  peer: string[];
  out: string;
}

interface Row {
  ours: ThroughputResult;
  peers: { command: string; result?: PeerResult; error?: string; trainRatio?: number; inferRatio?: number }[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** Train/inference images/s per model, each measured in its own process, beside the peers. */
export async function runThroughput(
  flags: ThroughputFlags,
  print: (line: string) => void,
): Promise<{ rows: Row[]; dir: string }> {
  const models = modelList(flags.models);
  const { backend } = await useBackend(flags.backend as BackendChoice);
  await configureBackend({ precision: flags.precision }); // here too: a precision the backend lacks fails once, up front
  const machine = await describeMachine();
  print(JSON.stringify({ machine }));
  const dir = await resultsDir(flags.out, 'throughput');
  const rows: Row[] = [];
  let table = '';
  for (const model of models) {
    const rounds: { ours: ThroughputResult; peers: (PeerResult | Error)[] }[] = [];
    for (let round = 0; round < flags.rounds; round++) {
      // Alternate ours and the peers, round by round: a shared machine drifts.
      const ours = await measureIsolated({
        model,
        batch: flags.batch,
        size: flags.size,
        steps: flags.steps,
        warmup: flags.warmup,
        backend: flags.backend,
        precision: flags.precision,
        threads: flags.threads,
        shortcut: flags.shortcut,
      });
      print(JSON.stringify({ ...ours, round: round + 1 }));
      const peers: (PeerResult | Error)[] = [];
      for (const command of flags.peer) {
        try {
          const peer = await runPeer(command, ours, flags.steps, flags.warmup);
          print(JSON.stringify({ ...peer, round: round + 1 }));
          const mismatch =
            peer.shortcut !== undefined && ours.shortcut !== '-' && peer.shortcut !== ours.shortcut;
          print(
            JSON.stringify({
              model,
              vs: peer.peer,
              round: round + 1,
              train_ratio: ratio(ours.train_img_s, peer.train_img_s),
              infer_ratio: ratio(ours.infer_img_s, peer.infer_img_s),
              ...(mismatch ? { note: `shortcut ${ours.shortcut} here, ${peer.shortcut} in the peer` } : {}),
            }),
          );
          peers.push(peer);
        } catch (error) {
          print(JSON.stringify({ model, peer: command, error: (error as Error).message }));
          peers.push(error as Error);
        }
      }
      rounds.push({ ours, peers });
    }
    // The round with our median training throughput represents us; ratios are medians of rounds.
    const ours = [...rounds].sort((a, b) => a.ours.train_img_s - b.ours.train_img_s)[
      Math.floor(rounds.length / 2)
    ]?.ours as ThroughputResult;
    const peers = flags.peer.map((command, p) => {
      const pairs = rounds
        .map((r) => ({ ours: r.ours, peer: r.peers[p] }))
        .filter(
          (x): x is { ours: ThroughputResult; peer: PeerResult } =>
            !(x.peer instanceof Error) && x.peer !== undefined,
        );
      if (pairs.length === 0) {
        const failure = rounds[0]?.peers[p];
        return { command, error: failure instanceof Error ? failure.message : 'no result' };
      }
      // The peer's numbers shown are those of the round whose training ratio is the median.
      const byRatio = [...pairs].sort(
        (a, b) => a.ours.train_img_s / a.peer.train_img_s - b.ours.train_img_s / b.peer.train_img_s,
      );
      return {
        command,
        result: byRatio[Math.floor(byRatio.length / 2)]?.peer,
        trainRatio: median(pairs.map((x) => ratio(x.ours.train_img_s, x.peer.train_img_s))),
        inferRatio: median(pairs.map((x) => ratio(x.ours.infer_img_s, x.peer.infer_img_s))),
      };
    });
    if (flags.rounds > 1) {
      for (const peer of peers) {
        if (peer.result)
          print(
            JSON.stringify({
              model,
              vs: peer.result.peer,
              rounds: flags.rounds,
              train_ratio: peer.trainRatio,
              infer_ratio: peer.inferRatio,
              of: 'median of rounds',
            }),
          );
      }
    }
    rows.push({ ours, peers });
    // Saved after every model: a later failure keeps what was measured.
    table = await saveThroughput(dir, flags, machine, backend, rows);
  }
  print(table);
  print(`results: ${dir}`);
  return { rows, dir };
}

/** Writes throughput.json and throughput.md for the rows so far; returns the table. */
async function saveThroughput(
  dir: string,
  flags: ThroughputFlags,
  machine: Record<string, string | number>,
  backend: string,
  rows: Row[],
): Promise<string> {
  const peerNames = flags.peer.map(
    (command, p) => rows.map((r) => r.peers[p]?.result?.peer).find(Boolean) ?? command,
  );
  const header = [
    'model',
    'batch',
    'size',
    'params',
    'GFLOPs',
    `train img/s (${backend}${flags.precision === 'fp32' ? '' : ` ${flags.precision}`})`,
    'infer img/s',
    'peak RSS MiB',
  ];
  for (const name of peerNames)
    header.push(`${name} train`, `${name} infer`, `train ×${name}`, `infer ×${name}`);
  const table = markdownTable(
    header,
    rows.map(({ ours, peers }) => [
      ours.model,
      ours.batch,
      ours.size,
      ours.params.toLocaleString('en-US'),
      fixed(ours.flops / 1e9, 3),
      fixed(ours.train_img_s),
      fixed(ours.infer_img_s),
      ours.peak_rss_mb,
      ...peers.flatMap((p) =>
        p.result
          ? [
              fixed(p.result.train_img_s),
              fixed(p.result.infer_img_s),
              fixed(p.trainRatio, 2),
              fixed(p.inferRatio, 2),
            ]
          : ['failed', '–', '–', '–'],
      ),
    ]),
  );
  await writeResult(dir, 'throughput.json', JSON.stringify({ machine, flags, rows }, null, 2));
  await writeResult(dir, 'throughput.md', `${table}\n\nMachine: ${JSON.stringify(machine)}\n`);
  return table;
}
