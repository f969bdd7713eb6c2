/**
 * An OTLP/HTTP receiver on a free local port, as a collector would be: services export their
 * spans to `url`, and a suite finds them in `spans`, each with the service that sent it.
 */
export type OtlpSpan = {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  links?: { spanId: string }[]
  attributes?: { key: string; value: { stringValue?: string } }[]
}
export type ReceivedSpan = OtlpSpan & { service: string }

/** OTLP's span kinds, as numbers on the wire */
export const SpanKinds = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const

type ExportRequest = {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[]
}

export function otlpReceiver() {
  const spans: ReceivedSpan[] = []
  const server = Bun.serve({
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as ExportRequest
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?'
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service })
      }
      return Response.json({})
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, spans, stop: () => server.stop(true) }
}
