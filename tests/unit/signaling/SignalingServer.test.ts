import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { WebSocket, WebSocketServer } from 'ws';
import { MAX_SDP_LENGTH, type ServerMessage } from '../../../src/core/signalProtocol.js';
import { WebRtcSource } from '../../../src/media/WebRtcSource.js';
import { signalSessionOf } from '../../../src/server/webrtcSession.js';
import { type SessionFactory, SignalingServer, type SignalSession } from '../../../src/signaling/SignalingServer.js';

/** A real offer: werift as the publishing peer (VP8, sendonly, host candidates). */
async function makeOffer(): Promise<string> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
  const sdp = pc.localDescription?.sdp ?? '';
  await pc.close();
  return sdp;
}

/** The app's wiring, in small: every offer becomes a real WebRtcSource. */
function realFactory(sources: WebRtcSource[]): SessionFactory {
  let n = 0;
  return async (req): Promise<SignalSession> => {
    const source = await WebRtcSource.create({
      id: `s${++n}`,
      offerSdp: req.sdp,
      name: req.name,
      connectTimeoutMs: 60_000,
    });
    sources.push(source);
    return signalSessionOf(source);
  };
}

class Client {
  readonly ws: WebSocket;
  readonly #queue: ServerMessage[] = [];
  readonly #waiters: ((m: ServerMessage) => void)[] = [];
  closeCode: Promise<number>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      const w = this.#waiters.shift();
      if (w) w(msg);
      else this.#queue.push(msg);
    });
    this.closeCode = new Promise((resolve) => this.ws.on('close', (code) => resolve(code)));
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  next(timeoutMs = 10_000): Promise<ServerMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no message')), timeoutMs);
      this.#waiters.push((m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }

  async ask(payload: unknown): Promise<ServerMessage> {
    this.ws.send(typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
    return this.next();
  }
}

let offer: string;
let server: Server;
let url: string;
let signaling: SignalingServer;
const sources: WebRtcSource[] = [];
const clients: Client[] = [];
const events: string[] = [];

async function connect(): Promise<Client> {
  const c = new Client(url);
  clients.push(c);
  await c.open();
  return c;
}

beforeAll(async () => {
  offer = await makeOffer();
  server = createServer((_req, res) => res.writeHead(404).end());
  signaling = new SignalingServer({
    createSession: realFactory(sources),
    maxSessions: 3,
    maxMessageBytes: 48 * 1024,
    maxPayloadBytes: 256 * 1024,
  });
  signaling.on('session', (s) => events.push(`session ${s.streamId}`));
  signaling.on('sessionClosed', (id) => events.push(`closed ${id}`));
  signaling.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/signal`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  const deadline = Date.now() + 5000;
  while (signaling.sessionCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
});

afterAll(async () => {
  await signaling.close();
  await Promise.all(sources.map((s) => s.close()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function expectError(msg: ServerMessage, code: string): void {
  expect(msg.type).toBe('error');
  if (msg.type === 'error') {
    expect(msg.code).toBe(code);
    expect(msg.message.length).toBeGreaterThan(0);
  }
}

describe('SignalingServer', () => {
  it('answers a real offer with an SDP answer and a stream id, raising the bitrate floor', async () => {
    const c = await connect();
    const msg = await c.ask({ type: 'offer', sdp: offer, name: 'cam' });
    expect(msg.type).toBe('answer');
    if (msg.type !== 'answer') return;
    expect(msg.streamId).toMatch(/^s\d+$/);
    expect(msg.sdp).toMatch(/^v=0/);
    expect(msg.sdp).toMatch(/a=recvonly/);
    expect(msg.sdp).toMatch(/a=fmtp:98 x-google-min-bitrate=\d+;x-google-start-bitrate=\d+;x-google-max-bitrate=\d+/);
    expect(msg.sdp).toMatch(/a=candidate:/); // non-trickle: candidates are in the answer
    expect(signaling.sessionCount).toBe(1);
    expect(events).toContain(`session ${msg.streamId}`);
  });

  it('answers malformed, unknown, oversized and binary messages with their code; the session stays usable', async () => {
    const c = await connect();
    const answer = await c.ask({ type: 'offer', sdp: offer });
    expect(answer.type).toBe('answer');
    const source = sources.at(-1);
    expectError(await c.ask('{"type":"offer",'), 'BAD_JSON');
    expectError(await c.ask('not json at all'), 'BAD_JSON');
    expectError(await c.ask({ type: 'subscribe' }), 'BAD_MESSAGE');
    expectError(await c.ask({ sdp: offer }), 'BAD_MESSAGE');
    expectError(await c.ask({ type: 'offer' }), 'BAD_MESSAGE');
    expectError(await c.ask({ type: 'offer', sdp: 42 }), 'BAD_MESSAGE');
    expectError(await c.ask({ type: 'offer', sdp: offer, extra: true }), 'BAD_MESSAGE');
    expectError(await c.ask([1, 2, 3]), 'BAD_MESSAGE');
    expectError(await c.ask('null'), 'BAD_MESSAGE');
    expectError(await c.ask(Buffer.from([1, 2, 3])), 'BAD_MESSAGE');
    expectError(await c.ask({ type: 'offer', sdp: `v=0\r\n${'a=x\r\n'.repeat(10_000)}` }), 'MESSAGE_TOO_LARGE');
    expectError(await c.ask({ type: 'offer', sdp: offer }), 'SESSION_EXISTS');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(source?.closed).toBe(false);
    expect(signaling.sessionCount).toBe(1);
  });

  it('rejects hostile SDP with a typed error and still takes a good offer on the same socket', async () => {
    const c = await connect();
    const audioOnly = offer.replace('m=video', 'm=audio').replace('VP8/90000', 'opus/48000/2');
    const recvOnly = offer.replace('a=sendonly', 'a=recvonly');
    const vp9 = offer.replace('VP8/90000', 'VP9/90000');
    const sections = offer.slice(offer.indexOf('m=video'));
    const manySections = offer + sections.repeat(12);
    const longLine = offer.replace('a=mid:0', `a=mid:${'x'.repeat(5000)}`);
    const noFingerprint = offer
      .split('\r\n')
      .filter((l) => !l.startsWith('a=fingerprint') && !l.startsWith('a=ice-'))
      .join('\r\n');
    const cases: [string, string][] = [
      ['', 'BAD_MESSAGE'],
      ['hello', 'BAD_SDP'],
      ['v=0\r\nthis is not sdp\r\n', 'BAD_SDP'],
      [`v=0\r\n${'\u0000\u00ff'.repeat(100)}`, 'BAD_SDP'],
      [manySections, 'BAD_SDP'],
      [longLine, 'BAD_SDP'],
      [audioOnly, 'NO_VIDEO'],
      [recvOnly, 'NO_VIDEO'],
      ['v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', 'NO_VIDEO'],
      [vp9, 'UNSUPPORTED_CODEC'],
      [offer.replace('VP8/90000', 'AV1/90000'), 'UNSUPPORTED_CODEC'],
      [noFingerprint, 'BAD_SDP'],
    ];
    const got: string[] = [];
    for (const [sdp] of cases) {
      const reply = await c.ask({ type: 'offer', sdp });
      got.push(reply.type === 'error' ? reply.code : reply.type);
    }
    expect(got).toEqual(cases.map(([, code]) => code));
    expectError(
      await c.ask({
        type: 'offer',
        sdp: `v=0\r\n${'a=x\r\n'.repeat(MAX_SDP_LENGTH / 5 + 1)}`,
      }),
      'BAD_MESSAGE',
    );
    expect(signaling.sessionCount).toBe(0);
    const ok = await c.ask({ type: 'offer', sdp: offer });
    expect(ok.type).toBe('answer');
    expect(signaling.sessionCount).toBe(1);
  });

  it('closes a socket that sends a frame over the hard cap (1009) without touching other sessions', async () => {
    const a = await connect();
    expect((await a.ask({ type: 'offer', sdp: offer })).type).toBe('answer');
    const sourceA = sources.at(-1);
    const b = await connect();
    b.ws.send('x'.repeat(300 * 1024));
    expect(await b.closeCode).toBe(1009);
    expect(sourceA?.closed).toBe(false);
    expectError(await a.ask('{'), 'BAD_JSON');
    const c = await connect();
    expectError(await c.ask({ type: 'candidate', candidate: null }), 'NO_SESSION');
  });

  it('enforces the session limit, and closing a socket closes its session', async () => {
    const cs = await Promise.all([connect(), connect(), connect(), connect()]);
    const replies = [];
    for (const c of cs) replies.push(await c.ask({ type: 'offer', sdp: offer }));
    expect(replies.map((r) => (r.type === 'error' ? r.code : r.type))).toEqual([
      'answer',
      'answer',
      'answer',
      'TOO_MANY_SESSIONS',
    ]);
    const first = replies[0];
    const source = sources.find((s) => first?.type === 'answer' && s.id === first.streamId);
    expect(source?.closed).toBe(false);
    cs[0]?.ws.close();
    const deadline = Date.now() + 5000;
    while (!source?.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(source?.closed).toBe(true);
    expect(source?.state).toBe('closed');
    expect(events).toContain(`closed ${source?.id}`);
    expect((await cs[3]?.ask({ type: 'offer', sdp: offer }))?.type).toBe('answer');
  });

  it('answers INTERNAL (without details) when the factory fails unexpectedly', async () => {
    const http = createServer();
    const s = new SignalingServer({
      createSession: () => Promise.reject(new Error('secret internals: rtsp://user:pw@host')),
      heartbeatMs: 0,
    });
    s.attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const c = new Client(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/signal`);
    clients.push(c);
    await c.open();
    const reply = await c.ask({ type: 'offer', sdp: offer });
    expectError(reply, 'INTERNAL');
    expect(JSON.stringify(reply)).not.toContain('pw');
    await s.close();
    expect(await c.closeCode).toBe(1001);
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('closes a session whose socket went away while it was being set up', async () => {
    const http = createServer();
    let release: (() => void) | undefined;
    let closedSessions = 0;
    const s = new SignalingServer({
      heartbeatMs: 0,
      createSession: async () => {
        await new Promise<void>((r) => {
          release = r;
        });
        let closed = false;
        return {
          streamId: 'late',
          answerSdp: 'v=0',
          get closed() {
            return closed;
          },
          close: async () => {
            closed = true;
            closedSessions++;
          },
        };
      },
    });
    const seen: string[] = [];
    s.on('session', (x) => seen.push(x.streamId));
    s.attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const c = new Client(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/signal`);
    await c.open();
    c.ws.send(JSON.stringify({ type: 'offer', sdp: offer }));
    await new Promise((r) => setTimeout(r, 50));
    c.ws.terminate();
    await c.closeCode;
    await new Promise((r) => setTimeout(r, 50));
    release?.();
    await new Promise((r) => setTimeout(r, 50));
    expect(closedSessions).toBe(1);
    expect(seen).toEqual([]);
    expect(s.sessionCount).toBe(0);
    await s.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('leaves upgrades for other paths to other listeners', async () => {
    const http = createServer();
    const s = new SignalingServer({
      createSession: realFactory(sources),
      heartbeatMs: 0,
    });
    s.attach(http);
    const other = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/events')) other.handleUpgrade(req, socket, head, (ws) => ws.send('events here'));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/events?stream=a`);
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)));
      ws.once('error', reject);
    });
    expect(first).toBe('events here');
    ws.terminate();
    await s.close();
    other.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
});
