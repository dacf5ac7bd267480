import type { WebRtcSource } from '../media/WebRtcSource.js';
import type { SignalSession } from '../signaling/session.js';

/**
 * A WebRtcSource as the signalling layer sees a session. `close` defaults to closing the source (the server passes
 * its stream removal instead). A source that ends by itself (connect timeout, decoder failure) ends its signalling
 * socket too, through `onClose`.
 */
export function signalSessionOf(
  source: WebRtcSource,
  close: () => Promise<void> = () => source.close(),
): SignalSession {
  return {
    streamId: source.id,
    answerSdp: source.answerSdp,
    get closed() {
      return source.closed;
    },
    close,
    onClose: (listener) => source.on('state', (state) => state === 'closed' && listener()),
  };
}
