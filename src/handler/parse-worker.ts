/**
 * A parse thread of `parse-pool.ts`: parses the messages it is sent with `parseMessageData`
 * and answers each with its content hash and the parsed data (or why it could not be read).
 * It holds nothing between messages and touches no database: the run on the main thread
 * decides and commits.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type ParsedAttachment, parseMessageData, UnparseableMessage } from './parse.js';
import type { ParseReply, ParseTask } from './parse-pool.js';

const port = parentPort;
if (!port) throw new Error('parse-worker.ts runs as a worker thread of parse-pool.ts');

port.on('message', (task: ParseTask) => {
  void answer(task).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (error: unknown) =>
      port.postMessage({ id: task.id, contentHash: '', error: String(error) } satisfies ParseReply),
  );
});

async function answer(task: ParseTask): Promise<{ reply: ParseReply; transfer: ArrayBuffer[] }> {
  const raw = Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength);
  const contentHash = createHash('sha256').update(raw).digest('hex');
  try {
    const data = await parseMessageData(raw, task.limits);
    // Each content gets a buffer of its own: a Buffer may be a view into a larger pooled one,
    // which would otherwise be copied (or detached) whole.
    const attachments: ParsedAttachment[] = data.attachments.map((a) => ({
      ...a,
      content: Buffer.from(new Uint8Array(a.content)),
    }));
    return {
      reply: { id: task.id, contentHash, data: { ...data, attachments } },
      transfer: attachments.map((a) => a.content.buffer as ArrayBuffer),
    };
  } catch (error) {
    if (!(error instanceof UnparseableMessage)) throw error;
    return { reply: { id: task.id, contentHash, unparseable: true }, transfer: [] };
  }
}
