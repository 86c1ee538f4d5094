import Hummingbird

extension Request {
    /// The request's `Idempotency-Key`, scoped to the caller: their user or API key, or for anonymous callers their
    /// address (so a key alone never reaches another caller's ticket). Reads the body to fingerprint it; routes
    /// decode it afterwards as usual. Nil when the header is absent.
    public mutating func idempotencyKey(context: TurnoRequestContext) async throws -> IdempotencyKey? {
        guard let key = headers[.idempotencyKey] else { return nil }
        guard (1...200).contains(key.count) else { throw Problem.badRequest("Idempotency-Key must have 1 to 200 characters") }
        let body = try await collectBody(upTo: context.maxUploadSize)
        let scope: String =
            switch context.principal?.kind {
            case .user(let id, _, _): "user:\(id)"
            case .apiKey(let id, _, _): "api_key:\(id)"
            case nil: "address:\(context.clientAddress)"
            }
        let fingerprint = IdempotencyKey.fingerprint(method: method.rawValue, path: uri.path, body: body.readableBytesView)
        return IdempotencyKey(scope: scope, key: key, fingerprint: fingerprint)
    }
}
