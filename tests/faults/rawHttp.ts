/** A raw HTTP/1.1 exchange over TCP, so that a fuzzer can send what no HTTP client would. */
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Bytes received (all of them, headers included). */
  bytes: number;
}

/**
 * Sends `request` (bytes as given) and reads the answer until the server closes or `timeoutMs` passes; for an
 * upgrade answered 101 it stops after the headers. `status` 0 means no status line came.
 */
export function rawExchange(port: number, request: Buffer | string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('latin1');
      if (/^HTTP\/1\.1 101 /.test(text) && text.includes('\r\n\r\n')) finish();
      const head = parse(Buffer.concat(chunks));
      const length = Number(head.headers['content-length']);
      if (head.status > 0 && Number.isFinite(length) && Buffer.byteLength(head.body, 'latin1') >= length) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

function parse(buffer: Buffer): RawResponse {
  const text = buffer.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let raw = end >= 0 ? text.slice(end + 4) : '';
  // Only the first response: a pipelined second one (the rest of a lying body parsed as a request) is not ours.
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') raw = unchunk(raw);
  else if (headers['content-length'] !== undefined) raw = raw.slice(0, Number(headers['content-length']) || 0);
  return { status, headers, body: Buffer.from(raw, 'latin1').toString('utf8'), bytes: buffer.length };
}

function unchunk(raw: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return out;
    const size = Number.parseInt(raw.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
