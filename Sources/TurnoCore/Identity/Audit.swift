import Foundation
import Hummingbird
import SQLKit
import Synchronization

/// The audit trail: append-only records of sensitive actions, written in the same transaction as the action.
public enum Audit {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: Int64
        public var actor: String
        public var action: String
        public var target: String
        public var detail: [String: String]
        public var address: String
        public var at: Date
    }

    /// Records who did what, to what, from where. `detail` says what changed (never a password or a secret).
    public static func record(
        in transaction: Transaction,
        organizationID: Int64,
        actor: String,
        action: String,
        target: String,
        detail: [String: String],
        address: String
    ) async throws {
        AuditTrail.current?.markRecorded()
        try await insert(in: transaction, organizationID: organizationID, actor: actor, action: action, target: target, detail: detail, address: address)
    }

    static func insert(
        in transaction: Transaction,
        organizationID: Int64,
        actor: String,
        action: String,
        target: String,
        detail: [String: String],
        address: String
    ) async throws {
        let detailJSON = try JSONCoding.text(detail)
        try await transaction.sql.raw(
            """
            INSERT INTO audit_log (organization_id, actor, action, target, detail, address, at_ms)
            VALUES (\(bind: organizationID), \(bind: actor), \(bind: action), \(bind: target), \(bind: detailJSON), \(bind: address), \(bind: transaction.timeMs))
            """
        ).run()
    }

    /// Filters for reading the trail; results come newest first.
    public struct Query: Sendable {
        public var action: String?
        public var actor: String?
        public var from: Date?
        public var to: Date?
        /// Only entries older than this id (the cursor of the previous page).
        public var before: Int64?
        public var limit: Int
    }

    public static func entries(organizationID: Int64, matching query: Query, storage: Storage) async throws -> [Entry] {
        try await storage.read { sql in
            var text: SQLQueryString = "SELECT id, actor, action, target, detail, address, at_ms FROM audit_log WHERE organization_id = \(bind: organizationID)"
            if let action = query.action {
                text.appendInterpolation(unsafeRaw: " AND action = ")
                text.appendInterpolation(bind: action)
            }
            if let actor = query.actor {
                text.appendInterpolation(unsafeRaw: " AND actor LIKE ")
                text.appendInterpolation(bind: actor + "%")
            }
            if let from = query.from {
                text.appendInterpolation(unsafeRaw: " AND at_ms >= ")
                text.appendInterpolation(bind: from.milliseconds)
            }
            if let to = query.to {
                text.appendInterpolation(unsafeRaw: " AND at_ms < ")
                text.appendInterpolation(bind: to.milliseconds)
            }
            if let before = query.before {
                text.appendInterpolation(unsafeRaw: " AND id < ")
                text.appendInterpolation(bind: before)
            }
            text.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT \(query.limit)")
            return try await sql.raw(text).all().map { row in
                Entry(
                    id: try row.decode(column: "id", as: Int64.self),
                    actor: try row.decode(column: "actor", as: String.self),
                    action: try row.decode(column: "action", as: String.self),
                    target: try row.decode(column: "target", as: String.self),
                    detail: (try? JSONCoding.decoder.decode([String: String].self, from: Data(try row.decode(column: "detail", as: String.self).utf8))) ?? [:],
                    address: try row.decode(column: "address", as: String.self),
                    at: Date(milliseconds: try row.decode(column: "at_ms", as: Int64.self))
                )
            }
        }
    }
}

/// The change a staff member or an API key is making with the current request, so that every change is audited
/// even where no route names it: the first write transaction of the request records it, in that transaction, unless
/// the route recorded a more specific entry itself (`Audit.record`).
public final class AuditTrail: Sendable {
    /// The request being served, set by `AuditMiddleware` for writes by a principal; nil elsewhere.
    @TaskLocal public static var current: AuditTrail?

    let organizationID: Int64
    let actor: String
    let action: String
    let target: String
    let address: String
    private let recorded = Atomic<Bool>(false)

    init(organizationID: Int64, actor: String, action: String, target: String, address: String) {
        self.organizationID = organizationID
        self.actor = actor
        self.action = action
        self.target = target
        self.address = address
    }

    func markRecorded() {
        recorded.store(true, ordering: .relaxed)
    }

    /// Called by `Storage.write` at the end of each transaction of the request.
    func record(in transaction: Transaction) async throws {
        guard !recorded.load(ordering: .relaxed) else { return }
        try await Audit.insert(in: transaction, organizationID: organizationID, actor: actor, action: action, target: target, detail: [:], address: address)
        markRecorded()
    }
}

/// Opens an `AuditTrail` for every API request that may change something (POST, PUT, PATCH, DELETE) made by a
/// signed-in user or an API key. The action is the method and route (`POST /api/v1/queues/{queue}/call-next`), the
/// target the path as called.
public struct AuditMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = context.principal, [.post, .put, .patch, .delete].contains(request.method), request.uri.path.hasPrefix("/api/") else {
            return try await next(request, context)
        }
        let route = context.endpointPath.map { $0.replacingOccurrences(of: #":([a-z_]+)"#, with: "{$1}", options: .regularExpression) } ?? request.uri.path
        let trail = AuditTrail(
            organizationID: principal.organizationID,
            actor: principal.auditName,
            action: "\(request.method) \(route)",
            target: request.uri.path,
            address: context.clientAddress
        )
        return try await AuditTrail.$current.withValue(trail) { try await next(request, context) }
    }
}
