import Hummingbird
import NIOCore
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics` (Prometheus text).
public struct OperationsRoutes: Sendable {
    let storage: Storage
    let registry: PrometheusCollectorRegistry

    public init(storage: Storage, registry: PrometheusCollectorRegistry) {
        self.storage = storage
        self.registry = registry
    }

    public func add(to router: Router<TurnoRequestContext>) {
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/readyz") { _, _ in
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
        router.get("/metrics") { _, _ in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
    }
}
