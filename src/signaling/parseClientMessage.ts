import { ClientMessage, type SignalErrorCode } from '../core/signalProtocol.js';

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; code: SignalErrorCode; message: string };

/** Parses and validates one text frame from a client. Never throws. */
export function parseClientMessage(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      code: 'BAD_JSON',
      message: `not JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const result = ClientMessage.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return {
      ok: false,
      code: 'BAD_MESSAGE',
      message: `invalid message: ${where}${issue?.message ?? 'rejected'}`,
    };
  }
  return { ok: true, message: result.data };
}
