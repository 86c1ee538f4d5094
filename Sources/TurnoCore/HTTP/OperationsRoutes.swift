import Hummingbird
import NIOCore
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics` (Prometheus text: with
/// `TURNO_METRICS_TOKEN` set, for whoever sends it as a bearer token; without, for clients on this machine only).
public struct OperationsRoutes: Sendable {
    let storage: Storage
    let registry: PrometheusCollectorRegistry
    let metricsToken: String?

    public init(storage: Storage, registry: PrometheusCollectorRegistry, metricsToken: String?) {
        self.storage = storage
        self.registry = registry
        self.metricsToken = metricsToken
    }

    /// The path that `AuthenticationMiddleware` leaves to this controller: its bearer token is not a user's.
    public static let metricsPath = "/metrics"

    public func add(to router: Router<TurnoRequestContext>) {
        router.get("/healthz", use: health)
        router.get("/readyz", use: readiness)
        router.get(.init(stringLiteral: Self.metricsPath), use: metrics)
    }

    @Sendable func health(_ request: Request, context: TurnoRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }

    @Sendable func readiness(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        do {
            let engine = storage.engine
            try await withTimeout(.seconds(2)) { try await engine.ping() }
        } catch {
            throw Problem(.serviceUnavailable, detail: "the \(storage.kind.rawValue) database does not answer")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready","database":"\#(storage.kind.rawValue)"}"#))
        )
    }

    @Sendable func metrics(_ request: Request, context: TurnoRequestContext) throws -> Response {
        if let metricsToken {
            guard let authorization = request.headers[.authorization], authorization == "Bearer \(metricsToken)" else {
                throw Problem(.unauthorized, detail: "/metrics needs Authorization: Bearer <TURNO_METRICS_TOKEN>", headers: [.wwwAuthenticate: "Bearer"])
            }
        } else if !AddressRanges.loopback.contains(context.clientAddress) {
            throw Problem(.forbidden, detail: "/metrics answers only clients on this machine; set TURNO_METRICS_TOKEN to scrape it from elsewhere")
        }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
