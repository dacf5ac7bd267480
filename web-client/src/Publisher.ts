import type { ServerMessage } from '../../src/core/signalProtocol.js';

export type PublishState = 'idle' | 'starting' | 'live' | 'stopped' | 'error';

export interface PublisherEvents {
  onState(state: PublishState, detail?: string): void;
}

/** How long we wait for ICE gathering before sending the offer with what we have (LAN host candidates are instant). */
const GATHER_TIMEOUT_MS = 3000;
const ANSWER_TIMEOUT_MS = 15_000;

/**
 * Publishes this browser's webcam: getUserMedia, an RTCPeerConnection sending one video track, a non-trickle offer
 * over `/signal` (sent once ICE gathering is complete), the answer applied. The `/signal` socket stays open for the
 * life of the session: closing it (stop) ends the session and its stream on the server.
 */
export class Publisher {
  #pc: RTCPeerConnection | undefined;
  #ws: WebSocket | undefined;
  #media: MediaStream | undefined;
  #state: PublishState = 'idle';
  #streamId: string | undefined;

  constructor(
    private readonly signalUrl: () => string,
    private readonly events: PublisherEvents,
  ) {}

  get state(): PublishState {
    return this.#state;
  }

  get streamId(): string | undefined {
    return this.#streamId;
  }

  get media(): MediaStream | undefined {
    return this.#media;
  }

  /** Starts the camera and the session; resolves with the stream id. Rejects (and stops) on any failure. */
  async start(name: string): Promise<string> {
    if (this.#state === 'starting' || this.#state === 'live') throw new Error('already publishing');
    this.#set('starting', 'starting the camera');
    try {
      if (!navigator.mediaDevices?.getUserMedia)
        throw new Error('this browser cannot access a camera here (needs https or localhost)');
      this.#media = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
        audio: false,
      });
      const track = this.#media.getVideoTracks()[0];
      if (!track) throw new Error('the camera gave no video track');
      const pc = new RTCPeerConnection({ iceServers: [] });
      this.#pc = pc;
      pc.addTransceiver(track, { direction: 'sendonly', streams: [this.#media] });
      pc.addEventListener('connectionstatechange', () => {
        if (pc !== this.#pc) return;
        if (pc.connectionState === 'failed') this.#fail('the WebRTC connection failed');
      });
      this.#set('starting', 'gathering network candidates');
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc, GATHER_TIMEOUT_MS);
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('no local description');
      this.#set('starting', 'sending the offer');
      const answer = await this.#signal(sdp, name);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      this.#streamId = answer.streamId;
      this.#set('live', answer.streamId);
      return answer.streamId;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#teardown();
      this.#set('error', message);
      throw err instanceof Error ? err : new Error(message);
    }
  }

  stop(): void {
    if (this.#state === 'idle' || this.#state === 'stopped') return;
    this.#teardown();
    this.#set('stopped');
  }

  #signal(sdp: string, name: string): Promise<{ sdp: string; streamId: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.signalUrl());
      this.#ws = ws;
      let answered = false;
      const timer = setTimeout(
        () => reject(new Error('the server did not answer the offer in time')),
        ANSWER_TIMEOUT_MS,
      );
      ws.onopen = () => ws.send(JSON.stringify({ type: 'offer', sdp, ...(name ? { name } : {}) }));
      ws.onmessage = (ev) => {
        let msg: ServerMessage;
        try {
          msg = JSON.parse(String(ev.data)) as ServerMessage;
        } catch {
          return;
        }
        if (msg.type === 'answer' && !answered) {
          answered = true;
          clearTimeout(timer);
          resolve({ sdp: msg.sdp, streamId: msg.streamId });
        } else if (msg.type === 'error') {
          clearTimeout(timer);
          const error = new Error(`${msg.code}: ${msg.message}`);
          if (answered) this.#fail(error.message);
          else reject(error);
        }
      };
      ws.onclose = (ev) => {
        clearTimeout(timer);
        if (ws !== this.#ws) return;
        const why = ev.reason || `code ${ev.code}`;
        if (!answered) reject(new Error(`the signalling connection closed (${why})`));
        else this.#fail(`the server ended the session (${why})`);
      };
    });
  }

  #fail(message: string): void {
    if (this.#state !== 'live' && this.#state !== 'starting') return;
    this.#teardown();
    this.#set('error', message);
  }

  #teardown(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close(1000, 'stopped');
    this.#pc?.close();
    this.#pc = undefined;
    for (const track of this.#media?.getTracks() ?? []) track.stop();
    this.#media = undefined;
    this.#streamId = undefined;
  }

  #set(state: PublishState, detail?: string): void {
    this.#state = state;
    this.events.onState(state, detail);
  }
}

function iceGatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
