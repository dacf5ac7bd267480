/**
 * Removes credentials from text that may quote a URL (ffmpeg's stderr prints its input URL, with the password).
 * Every `scheme://user:pass@` anywhere in the text becomes `scheme://***@`, and every listed secret string is
 * replaced by `***` wherever it appears (this also catches a password that ffmpeg prints on its own, decoded).
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s'"]*@/gi, '$1***@');
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/** The password of a URL in the forms it may be printed in (as written and percent-decoded); empty when none. */
export function urlSecrets(url: string): string[] {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(url)?.[1];
  if (!userinfo) return [];
  const colon = userinfo.indexOf(':');
  const raw = colon >= 0 ? userinfo.slice(colon + 1) : '';
  if (!raw) return [];
  const out = new Set<string>([raw]);
  try {
    out.add(decodeURIComponent(raw));
  } catch {
    // not valid percent-encoding: the raw form is all there is
  }
  return [...out].filter((s) => s.length > 0);
}
