import Foundation
import Hummingbird

/// `GET /api/v1/audit` (JSON, newest first, with `next_cursor`) and `GET /api/v1/audit.csv` (or `Accept: text/csv`).
/// Filters: `action`, `actor` (prefix, e.g. `user:3`), `from`, `to` (ISO-8601), `limit` (≤ 1,000), `cursor`.
struct AuditController: Sendable {
    let identity: Identity

    struct Page: Codable, ResponseEncodable {
        var items: [Audit.Entry]
        var nextCursor: String?
    }

    func add(to group: RouterGroup<TurnoRequestContext>) {
        group.get("/audit", use: listEntries)
        group.get("/audit.csv", use: exportEntries)
    }

    @Sendable func listEntries(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let query = try Self.query(request)
        if request.headers[.accept]?.contains("text/csv") == true { return try csv(query: query, context: context) }
        let items = try await Audit.entries(organizationID: context.requirePrincipal().organizationID, matching: query, storage: identity.storage)
        let next = items.count == query.limit ? items.last.map { String($0.id) } : nil
        return try Response.json(Page(items: items, nextCursor: next), status: .ok)
    }

    @Sendable func exportEntries(_ request: Request, context: TurnoRequestContext) throws -> Response {
        try csv(query: try Self.query(request), context: context)
    }

    /// Streams every matching entry, a thousand at a time, so an export never sits whole in memory.
    private func csv(query: Audit.Query, context: TurnoRequestContext) throws -> Response {
        let organizationID = try context.requirePrincipal().organizationID
        let storage = identity.storage
        var first = query
        first.limit = 1_000
        return CSV.streamedResponse(filename: "audit.csv", header: ["id", "at", "actor", "action", "target", "detail", "address"], first: first) { page in
            let entries = try await Audit.entries(organizationID: organizationID, matching: page, storage: storage)
            let rows = entries.map { entry in
                let detail = entry.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                return [String(entry.id), entry.at.formatted(.iso8601), entry.actor, entry.action, entry.target, detail, entry.address]
            }
            guard entries.count == page.limit, let last = entries.last else { return (rows, nil) }
            var following = page
            following.before = last.id
            return (rows, following)
        }
    }

    static func query(_ request: Request) throws -> Audit.Query {
        let parameters = request.uri.queryParameters
        func date(_ name: String) throws -> Date? {
            guard let text = parameters[Substring(name)] else { return nil }
            guard let date = try? Date(String(text), strategy: .iso8601) else {
                throw Problem.badRequest("`\(name)` must be an ISO-8601 time such as 2026-11-21T09:00:00Z, got `\(text)`")
            }
            return date
        }
        var limit = 100
        if let text = parameters["limit"] {
            guard let value = Int(text), (1...1_000).contains(value) else { throw Problem.badRequest("`limit` must be between 1 and 1000, got `\(text)`") }
            limit = value
        }
        var before: Int64?
        if let text = parameters["cursor"] {
            guard let value = Int64(text), value > 0 else { throw Problem.badRequest("`cursor` must be a `next_cursor` from a previous page") }
            before = value
        }
        return Audit.Query(
            action: parameters["action"].map(String.init),
            actor: parameters["actor"].map(String.init),
            from: try date("from"),
            to: try date("to"),
            before: before,
            limit: limit
        )
    }
}
