// Worker-thread entry: assembles batches off the training thread.
import { parentPort, workerData } from 'node:worker_threads';
import { BatchAssembler, type BatchSource, type BatchTask, type Preprocessing } from './assemble';

const { source, preprocessing } = workerData as { source: BatchSource; preprocessing: Preprocessing };
const assembler = new BatchAssembler(source, preprocessing);

parentPort?.on('message', async (message: { id: number; task: BatchTask }) => {
  try {
    const x = await assembler.assemble(message.task);
    parentPort?.postMessage({ id: message.id, x }, [x.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: (error as Error).message });
  }
});
