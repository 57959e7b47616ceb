/** Calls `onLine` for each line of a byte stream as it arrives (also the last, unterminated one). */
export async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  let rest = ''
  try {
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split('\n')
      rest = parts.pop() ?? ''
      for (const part of parts) onLine(part)
    }
  } catch {
    // The pipe broke: nothing more will come.
  }
  if (rest) onLine(rest)
}
