// Worker-thread entry: assembles batches off the training thread.
import { parentPort, workerData } from 'node:worker_threads';
import { BatchAssembler, type BatchSource, type BatchTask, type Preprocessing } from './assemble';

const { source, preprocessing } = workerData as { source: BatchSource; preprocessing: Preprocessing };
const assembler = new BatchAssembler(source, preprocessing);

parentPort?.on('message', async (message: { id: number; task: BatchTask }) => {
  try {
    const batch = await assembler.assemble(message.task);
    const transfer = [
      batch.x.buffer as ArrayBuffer,
      ...(batch.targets ? [batch.targets.buffer as ArrayBuffer] : []),
    ];
    parentPort?.postMessage({ id: message.id, batch }, transfer);
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: (error as Error).message });
  }
});
