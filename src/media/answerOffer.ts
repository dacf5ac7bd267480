import { RTCPeerConnection, RTCRtpCodecParameters, useNACK, usePLI } from 'werift';
import { AppError, errorMessage, ProtocolError, SourceError } from '../core/errors.js';
import { type BitrateFloor, raiseBitrateFloor } from './webrtcSdp.js';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

const GATHER_TIMEOUT_MS = 5000;

/**
 * A werift peer connection that answers a browser's offer to receive its video: VP8 and H264 with NACK and PLI
 * feedback (no REMB/TWCC: werift does not send REMB, hence the bitrate floor in the answer), opus so an offer with
 * audio still negotiates. Non-trickle: resolves once ICE gathering is complete, with the candidates in the answer.
 * Rejects with `BAD_SDP` when werift cannot negotiate the offer; the peer connection is closed then.
 */
export async function answerOffer(options: {
  offerSdp: string;
  iceServers: IceServer[];
  bitrate: BitrateFloor;
}): Promise<{ pc: RTCPeerConnection; answerSdp: string }> {
  const feedback = () => [useNACK(), usePLI()];
  const pc = new RTCPeerConnection({
    iceServers: options.iceServers,
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90_000,
          rtcpFeedback: feedback(),
        }),
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90_000,
          rtcpFeedback: feedback(),
        }),
      ],
      audio: [
        new RTCRtpCodecParameters({
          mimeType: 'audio/opus',
          clockRate: 48_000,
          channels: 2,
        }),
      ],
    },
  });
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: options.offerSdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc);
    const local = pc.localDescription?.sdp;
    if (!local) throw new Error('no local description');
    return { pc, answerSdp: raiseBitrateFloor(local, options.bitrate) };
  } catch (err) {
    await pc.close().catch(() => undefined);
    if (err instanceof AppError) throw err;
    throw new ProtocolError('BAD_SDP', `the offer could not be negotiated: ${errorMessage(err)}`, { cause: err });
  }
}

async function waitForGathering(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve, reject) => {
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    });
    const timer = setTimeout(() => {
      sub.unSubscribe();
      reject(new SourceError('WEBRTC_ICE_GATHERING', `ICE gathering did not complete in ${GATHER_TIMEOUT_MS} ms`));
    }, GATHER_TIMEOUT_MS);
  });
}
