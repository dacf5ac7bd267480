import { headers, type Msg, type NatsConnection } from 'nats';
import { AppError, errorCode, errorMessage, isErrorCode } from '../core/errors.js';
import type { ClusterNames, NodeVerb } from './subjects.js';

/** What a node answers for its own streams when another node asks (REST calls that reach the wrong node). */
export interface NodeAnswers {
  /** The latest analyzed frame of a stream here, as JPEG. */
  snapshot(id: string): Promise<Uint8Array>;
  /** Stops and forgets a stream here that is not a registered camera (a WebRTC publisher's). */
  remove(id: string): Promise<void>;
}

const ERROR_HEADER = 'Emostream-Error';

/** Answers `<name>.node.<me>.<verb>` requests; an error travels as its code and message in a header. */
export function answerRequests(nc: NatsConnection, names: ClusterNames, node: string, answers: NodeAnswers): void {
  const serve = (verb: NodeVerb, run: (id: string) => Promise<Uint8Array>) =>
    nc.subscribe(names.node(node, verb), {
      callback: (err, msg) => {
        if (!err) void answer(msg, run);
      },
    });
  serve('snapshot', (id) => answers.snapshot(id));
  serve('remove', async (id) => {
    await answers.remove(id);
    return new Uint8Array();
  });
}

async function answer(msg: Msg, run: (id: string) => Promise<Uint8Array>): Promise<void> {
  try {
    msg.respond(await run(new TextDecoder().decode(msg.data)));
  } catch (err) {
    const h = headers();
    h.set(ERROR_HEADER, `${errorCode(err)} ${errorMessage(err)}`.slice(0, 500));
    msg.respond(new Uint8Array(), { headers: h });
  }
}

/** Asks `node` about one of its streams; its error comes back as the same AppError. */
export async function askNode(
  nc: NatsConnection,
  names: ClusterNames,
  node: string,
  verb: NodeVerb,
  id: string,
  timeoutMs: number,
): Promise<Uint8Array> {
  let reply: Msg;
  try {
    reply = await nc.request(names.node(node, verb), new TextEncoder().encode(id), { timeout: timeoutMs });
  } catch (cause) {
    throw new AppError('CLUSTER_UNAVAILABLE', `node ${node} did not answer`, { cause });
  }
  const error = reply.headers?.get(ERROR_HEADER);
  if (error) {
    const space = error.indexOf(' ');
    const code = error.slice(0, space);
    throw new AppError(isErrorCode(code) ? code : 'INTERNAL', error.slice(space + 1));
  }
  return reply.data;
}
