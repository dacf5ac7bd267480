import { RTCPeerConnection } from 'werift';
import WebSocket from 'ws';

/**
 * A werift publisher (one sendonly video track) that sends its offer over `/signal` of the server at `baseUrl`:
 * the server's first reply (`answer` with `streamId` and `sdp`, or an error), the socket, and its close code to come.
 */
export async function offerOverSignal(baseUrl: string) {
  const pub = new RTCPeerConnection({ iceServers: [] });
  pub.addTransceiver('video', { direction: 'sendonly' });
  await pub.setLocalDescription(await pub.createOffer());
  if (pub.iceGatheringState !== 'complete') await pub.iceGatheringStateChange.watch((x) => x === 'complete', 5000);
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/signal`);
  await new Promise((r) => ws.once('open', r));
  const closeCode = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  const answer = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
  ws.send(JSON.stringify({ type: 'offer', sdp: pub.localDescription?.sdp }));
  return { pub, ws, closeCode, reply: await answer };
}
