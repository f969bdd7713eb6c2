// k6 >= 1.0 has WebCrypto as the global `crypto` and TextEncoder; @types/k6 does not declare them.
declare const crypto: {
  subtle: {
    importKey(format: 'jwk', key: object, algorithm: object, extractable: boolean, usages: string[]): Promise<unknown>
    sign(algorithm: object, key: unknown, data: Uint8Array): Promise<ArrayBuffer>
  }
}
declare class TextEncoder {
  encode(text: string): Uint8Array
}
