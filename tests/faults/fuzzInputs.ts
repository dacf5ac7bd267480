/**
 * Generated inputs for the fuzzer (seeded: the same inputs every run). Each generator mixes well-formed requests
 * of the real protocol with mutations of them and plain garbage, weighted so that most inputs reach the code
 * behind the parsers.
 */
import { seededRandom } from '../helpers/seededRandom.js';

export type Rng = () => number;

export function rng(seed: number): Rng {
  return seededRandom(seed);
}

export function pick<T>(r: Rng, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

function int(r: Rng, max: number): number {
  return Math.floor(r() * max);
}

/** A random string of `length` from an alphabet that includes what parsers trip on. */
export function junk(r: Rng, length: number): string {
  const alphabet = [
    'a',
    'Z',
    '0',
    '/',
    '.',
    '%',
    '%2F',
    '%00',
    '%E0%A4%A',
    '%zz',
    '?',
    '&',
    '=',
    '#',
    ':',
    '@',
    '"',
    "'",
    '\\',
    '<',
    '>',
    '{',
    '}',
    '[',
    ']',
    ' ',
    '\t',
    '\u00e9',
    '\u4e2d',
    '\ud83d\ude00',
    '..',
    '//',
    '\u0000',
    '\r\n',
  ];
  let out = '';
  while (out.length < length) out += pick(r, alphabet);
  return out.slice(0, length);
}

function mutate(r: Rng, text: string): string {
  if (text.length === 0) return junk(r, 1 + int(r, 8));
  const at = int(r, text.length);
  switch (int(r, 6)) {
    case 0:
      return text.slice(0, at) + junk(r, 1 + int(r, 6)) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + int(r, 4));
    case 2:
      return text + junk(r, 1 + int(r, 40));
    case 3:
      return text.slice(0, at);
    case 4:
      return text.replace(/[a-z]/, (c) => c.toUpperCase());
    default:
      return text + 'x'.repeat(int(r, 3) === 0 ? 10_000 : 200);
  }
}

const PATHS = [
  '/',
  '/index.html',
  '/app.js',
  '/styles.css',
  '/healthz',
  '/metrics',
  '/api/streams',
  '/api/streams/cam-x',
  '/api/streams/cam-x/snapshot.jpg',
  '/api/analyze',
  '/events',
  '/signal',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/api//streams',
  '/api/streams/',
  '/api/streams/..%2F..%2Fetc',
  '/nope',
];

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'G\u00c9T', 'CONNECT'];

const CAMERA_URLS = [
  'rtsp://127.0.0.1:9/x',
  'RTSP://user:p@ss@127.0.0.1:9/x',
  'rtsp://u:p/ss@127.0.0.1:9/x',
  'rtsps://u:%zz@127.0.0.1:9/x?token=abc',
  'rtsp://[::1]:9/x',
  'rtsp:///x',
  'rtsp://127.0.0.1:99999/x',
  'http://127.0.0.1/',
  'file:///etc/passwd',
  '/etc/passwd',
  '../../etc/passwd',
  'fr_short_hamilton_clip.mp4',
  'no-such-file.mp4',
  '',
];

/** A JSON body for POST /api/streams: mostly objects with odd fields, sometimes not JSON at all. */
function streamBody(r: Rng): string {
  switch (int(r, 8)) {
    case 0:
      return junk(r, int(r, 200));
    case 1:
      return JSON.stringify([1, 2, 3]);
    case 2:
      return JSON.stringify({ name: 42, url: null });
    case 3:
      return JSON.stringify({ name: junk(r, int(r, 300)), url: pick(r, CAMERA_URLS) });
    case 4:
      return JSON.stringify({ name: `fz${int(r, 1000)}`, url: mutate(r, pick(r, CAMERA_URLS)) });
    case 5:
      return JSON.stringify({ name: `fz${int(r, 1000)}`, url: `rtsp://127.0.0.1:9/${'a'.repeat(int(r, 300_000))}` });
    case 6:
      return `{"name":"x","url":"${'\\u0000'.repeat(50)}"}`;
    default:
      return JSON.stringify({ name: `fz${int(r, 1000)}`, url: pick(r, CAMERA_URLS), extra: { deep: [[[[]]]] } });
  }
}

/** A raw HTTP/1.1 request: method, target, headers and body generated, often mutated. */
export function httpRequest(r: Rng, port: number, image: Uint8Array): Buffer {
  const method = int(r, 5) === 0 ? pick(r, METHODS) : pick(r, ['GET', 'POST', 'DELETE']);
  let path = pick(r, PATHS);
  if (int(r, 3) === 0) path = mutate(r, path);
  if (int(r, 6) === 0) path += `?token=${junk(r, 20)}&stream=${junk(r, 10)}`;
  const host = pick(r, [
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `[::1]:${port}`,
    `evil.example:${port}`,
    junk(r, 12),
    '',
  ]);
  const headers: string[] = [];
  if (int(r, 10) !== 0) headers.push(`Host: ${host}`);
  let body: Buffer = Buffer.alloc(0);
  let type = pick(r, ['application/json', 'image/jpeg', 'image/png', 'text/plain', '', junk(r, 10)]);
  if (method === 'POST') {
    if (path.startsWith('/api/analyze')) {
      type = pick(r, ['image/jpeg', 'image/png', 'image/webp', 'application/json']);
      const cut = int(r, 4) === 0 ? image.length : int(r, image.length);
      body = Buffer.from(image.subarray(0, cut));
      if (int(r, 4) === 0) body = Buffer.from(junk(r, int(r, 2000)));
    } else {
      body = Buffer.from(streamBody(r));
    }
  }
  if (type) headers.push(`Content-Type: ${type}`);
  if (int(r, 8) === 0) headers.push(`Authorization: Bearer ${junk(r, 30)}`);
  if (int(r, 12) === 0) headers.push(`Origin: ${pick(r, ['http://evil.example', 'null', junk(r, 10)])}`);
  if (int(r, 10) === 0) headers.push('Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13');
  else headers.push('Connection: close');
  if (int(r, 15) === 0) headers.push(`X-Junk: ${'y'.repeat(int(r, 20_000))}`);
  const lengthHeader = int(r, 12) === 0 ? String(int(r, 1e9)) : String(body.length);
  if (method === 'POST' || int(r, 8) === 0) headers.push(`Content-Length: ${lengthHeader}`);
  const line = int(r, 20) === 0 ? junk(r, 30) : `${method} ${path} HTTP/1.1`;
  return Buffer.concat([Buffer.from(`${line}\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** A message for /signal: protocol messages (often mutated), garbage text, binary, or over the size limits. */
export function signalMessage(r: Rng, offer: string): { data: string | Buffer; binary: boolean } {
  switch (int(r, 12)) {
    case 0:
      return { data: junk(r, int(r, 300)), binary: false };
    case 1:
      return { data: Buffer.from(junk(r, int(r, 100))), binary: true };
    case 2:
      return { data: JSON.stringify({ type: 'offer', sdp: mutate(r, offer) }), binary: false };
    case 3:
      return {
        data: JSON.stringify({ type: 'offer', sdp: junk(r, int(r, 2000)), name: junk(r, int(r, 150)) }),
        binary: false,
      };
    case 4:
      return {
        data: JSON.stringify({
          type: 'candidate',
          candidate: { candidate: junk(r, 80), sdpMid: '0', sdpMLineIndex: 0 },
        }),
        binary: false,
      };
    case 5:
      return { data: JSON.stringify({ type: 'candidate', candidate: null }), binary: false };
    case 6:
      return { data: JSON.stringify({ type: pick(r, ['answer', 'bye', '', 'OFFER']), sdp: 'v=0' }), binary: false };
    case 7:
      return { data: `{"type":"offer","sdp":"${'v'.repeat(70_000)}"}`, binary: false };
    case 8:
      return { data: JSON.stringify({ type: 'offer', sdp: offer.replace('VP8/90000', junk(r, 8)) }), binary: false };
    case 9:
      return { data: JSON.stringify([{ type: 'offer' }]), binary: false };
    case 10:
      return { data: mutate(r, JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' })), binary: false };
    default:
      return {
        data: JSON.stringify({ type: 'offer', sdp: offer.replace(/a=mid:0/, `a=mid:${junk(r, 20)}`) }),
        binary: false,
      };
  }
}

/** A query string for /events: filters of every shape, good and bad. */
export function eventsQuery(r: Rng): string {
  const types = ['face.new', 'face.update', 'face.emotion', 'face.end', 'stream.state', 'face.*', '', junk(r, 8)];
  switch (int(r, 6)) {
    case 0:
      return '';
    case 1:
      return `?types=${pick(r, types)},${pick(r, types)}`;
    case 2:
      return `?stream=${junk(r, int(r, 300))}`;
    case 3:
      return `?stream=${'a,'.repeat(int(r, 500))}&types=${pick(r, types)}`;
    case 4:
      return `?${junk(r, int(r, 100))}`;
    default:
      return `?stream=cam-${int(r, 5)}&types=${pick(r, types)}&x=${junk(r, 5)}`;
  }
}
