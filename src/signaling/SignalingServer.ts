import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { CloseOnce } from '../core/CloseOnce.js';
import { errorCode, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type ClientMessage, type ServerMessage, SIGNAL_ERROR_CODES } from '../core/signalProtocol.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import { parseClientMessage } from './parseClientMessage.js';
import type { SessionFactory, SignalSession } from './session.js';

export type {
  SessionFactory,
  SessionRequest,
  SignalSession,
} from './session.js';

export interface SignalingServerOptions {
  /** Creates a publish session from an offer (the app wires WebRtcSource here; signaling knows no werift). */
  createSession: SessionFactory;
  /** URL path of the endpoint. */
  path?: string;
  /** Sessions alive or being set up, over all sockets. */
  maxSessions?: number;
  /** Messages larger than this are answered with MESSAGE_TOO_LARGE; the socket stays usable. */
  maxMessageBytes?: number;
  /** Hard cap given to ws (`maxPayload`): a larger frame closes the socket with 1009 before it is buffered. */
  maxPayloadBytes?: number;
  /** Ping interval; a socket that misses a pong is terminated. 0 disables. */
  heartbeatMs?: number;
  logger?: Logger;
}

export type SignalingEvents = {
  /** A session was set up and answered; register its stream here. */
  session: (session: SignalSession, info: { name?: string; remoteAddress?: string }) => void;
  /** A session ended (its socket closed, or it closed by itself). */
  sessionClosed: (streamId: string) => void;
};

/** One connected socket and the session it owns (at most one). */
interface Peer {
  ws: WebSocket;
  remoteAddress?: string;
  session?: SignalSession;
  /** An offer is being turned into a session. */
  pending: boolean;
  alive: boolean;
  gone: boolean;
}

const KNOWN_CODES = new Set<string>(SIGNAL_ERROR_CODES);

/**
 * The `/signal` endpoint (docs/interfaces.md). Attaches to an existing HTTP server through its `upgrade` event and only
 * takes its own path, so the app can route `/events` elsewhere. Every inbound message is size-checked, parsed and
 * validated; a failure is answered with `{"type":"error",code,message}` and leaves the socket and its session as
 * they were. Closing the socket closes the session.
 */
export class SignalingServer extends TypedEmitter<SignalingEvents> {
  readonly path: string;
  readonly #opts: Required<Omit<SignalingServerOptions, 'logger' | 'path'>>;
  readonly #log: Logger | undefined;
  readonly #wss: WebSocketServer;
  readonly #peers = new Set<Peer>();
  readonly #servers = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  readonly #closer: CloseOnce;
  #heartbeat: NodeJS.Timeout | undefined;
  #inFlight = 0;

  constructor(options: SignalingServerOptions) {
    super();
    this.path = options.path ?? '/signal';
    this.#opts = {
      createSession: options.createSession,
      maxSessions: options.maxSessions ?? 16,
      maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
      maxPayloadBytes: options.maxPayloadBytes ?? 1024 * 1024,
      heartbeatMs: options.heartbeatMs ?? 30_000,
    };
    this.#log = options.logger?.child({ component: 'signaling' });
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#opts.maxPayloadBytes,
    });
    this.#wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.#onConnection(ws, req));
    if (this.#opts.heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#opts.heartbeatMs);
      this.#heartbeat.unref();
    }
    this.#closer = new CloseOnce('SignalingServer', () => this.#teardown());
  }

  get closed(): boolean {
    return this.#closer.closed;
  }

  /** Sessions alive now. */
  get sessionCount(): number {
    let n = 0;
    for (const p of this.#peers) if (p.session && !p.session.closed) n++;
    return n;
  }

  /** Starts taking WebSocket upgrades for `path` on `server`; other paths are left to other listeners. */
  attach(server: Server): void {
    this.#closer.assertOpen();
    if (this.#servers.has(server)) return;
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(req, socket, head);
    };
    this.#servers.set(server, listener);
    server.on('upgrade', listener);
  }

  /** Takes the upgrade when it is for our path; returns false (and leaves the socket alone) otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return false;
    }
    if (pathname !== this.path) return false;
    this.acceptUpgrade(req, socket, head);
    return true;
  }

  /**
   * Takes an upgrade routed here by someone else's decision (the app's UpgradeGate), whatever its path: it becomes
   * a signalling socket, or is answered and closed.
   */
  acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
  }

  close(): Promise<void> {
    return this.#closer.close();
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const peer: Peer = {
      ws,
      remoteAddress: req.socket.remoteAddress,
      pending: false,
      alive: true,
      gone: false,
    };
    this.#peers.add(peer);
    this.#log?.info({ remoteAddress: peer.remoteAddress }, 'signal socket open');
    ws.on('pong', () => {
      peer.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void this.#onMessage(peer, data, isBinary);
    });
    // ws reports protocol violations (e.g. a frame over maxPayload) here and then closes the socket itself.
    ws.on('error', (err) => this.#log?.warn({ err: errorMessage(err) }, 'signal socket error'));
    ws.on('close', (code) => {
      peer.gone = true;
      this.#peers.delete(peer);
      this.#log?.info({ code }, 'signal socket closed');
      void this.#endSession(peer);
    });
  }

  async #onMessage(peer: Peer, data: RawData, isBinary: boolean): Promise<void> {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > this.#opts.maxMessageBytes) {
      return this.#sendError(
        peer,
        'MESSAGE_TOO_LARGE',
        `message of ${size} bytes; the limit is ${this.#opts.maxMessageBytes}`,
      );
    }
    if (isBinary) return this.#sendError(peer, 'BAD_MESSAGE', 'binary frames are not part of the protocol');
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.#sendError(peer, parsed.code, parsed.message);
    await this.#dispatch(peer, parsed.message);
  }

  async #dispatch(peer: Peer, msg: ClientMessage): Promise<void> {
    if (msg.type === 'candidate') {
      const session = peer.session;
      if (!session || session.closed) return this.#sendError(peer, 'NO_SESSION', 'no session on this socket yet');
      if (!session.addIceCandidate) return; // non-trickle session: candidates are in the SDP
      try {
        await session.addIceCandidate(msg.candidate);
      } catch (err) {
        this.#sendError(peer, 'BAD_MESSAGE', `candidate rejected: ${errorMessage(err)}`);
      }
      return;
    }
    if (peer.pending || (peer.session && !peer.session.closed)) {
      return this.#sendError(peer, 'SESSION_EXISTS', 'this socket already has a session; open a new socket');
    }
    if (this.sessionCount + this.#inFlight >= this.#opts.maxSessions) {
      return this.#sendError(peer, 'TOO_MANY_SESSIONS', `the server takes at most ${this.#opts.maxSessions} sessions`);
    }
    peer.pending = true;
    this.#inFlight++;
    let session: SignalSession;
    try {
      session = await this.#opts.createSession({
        sdp: msg.sdp,
        name: msg.name,
        remoteAddress: peer.remoteAddress,
      });
    } catch (err) {
      const code = errorCode(err);
      // Only our own typed failures reach the client verbatim; anything else is an internal error.
      const known = KNOWN_CODES.has(code) && code !== 'INTERNAL';
      if (!known) this.#log?.error({ err: errorMessage(err) }, 'session setup failed');
      return this.#sendError(
        peer,
        known ? code : 'INTERNAL',
        known ? errorMessage(err) : 'the session could not be set up',
      );
    } finally {
      peer.pending = false;
      this.#inFlight--;
    }
    if (peer.gone || this.closed) {
      await session.close();
      return;
    }
    peer.session = session;
    session.onClose?.(() => {
      // The session ended on its own (peer connection failed, decoder died): end the socket too.
      if (peer.session === session && !peer.gone) {
        peer.ws.close(1011, 'session ended');
      }
    });
    this.#send(peer, {
      type: 'answer',
      sdp: session.answerSdp,
      streamId: session.streamId,
    });
    this.#log?.info({ streamId: session.streamId }, 'session answered');
    this.emit('session', session, {
      name: msg.name,
      remoteAddress: peer.remoteAddress,
    });
  }

  async #endSession(peer: Peer): Promise<void> {
    const session = peer.session;
    if (!session) return;
    peer.session = undefined;
    try {
      await session.close();
    } catch (err) {
      this.#log?.warn({ err: errorMessage(err), streamId: session.streamId }, 'session close failed');
    }
    this.emit('sessionClosed', session.streamId);
  }

  #sendError(peer: Peer, code: string, message: string): void {
    this.#send(peer, { type: 'error', code, message });
  }

  #send(peer: Peer, msg: ServerMessage): void {
    if (peer.ws.readyState !== peer.ws.OPEN) return;
    peer.ws.send(JSON.stringify(msg));
  }

  #beat(): void {
    for (const peer of this.#peers) {
      if (!peer.alive) {
        peer.ws.terminate();
        continue;
      }
      peer.alive = false;
      peer.ws.ping();
    }
  }

  async #teardown(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const [server, listener] of this.#servers) server.off('upgrade', listener);
    this.#servers.clear();
    const ends: Promise<void>[] = [];
    for (const peer of [...this.#peers]) {
      ends.push(this.#endSession(peer));
      peer.ws.close(1001, 'server shutting down');
    }
    await Promise.all(ends);
    // Sockets that do not finish the closing handshake in time are cut.
    setTimeout(() => {
      for (const peer of this.#peers) peer.ws.terminate();
    }, 1000).unref();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
