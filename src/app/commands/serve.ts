export async function serve(_argv: string[]): Promise<number> {
  throw new Error('serve: not yet');
}
