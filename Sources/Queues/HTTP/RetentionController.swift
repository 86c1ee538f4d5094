import Hummingbird
import TurnoCore

/// `GET|PUT|DELETE /api/v1/retention`: how many days the organization keeps its customers' details (ticket links and
/// comments) after a ticket was issued; without one (after `DELETE`) it keeps them. Admins only.
struct RetentionController: Sendable {
    let store: QueueStore
    let commands: RetentionCommands

    struct Retention: Codable, ResponseEncodable {
        /// Absent when the organization keeps everything.
        var days: Int?
    }

    struct RetentionRequest: Decodable {
        var days: Int
    }

    func add(to router: Router<TurnoRequestContext>) {
        let group = router.group("/api/v1").add(middleware: RequireAccess(.retention))
        group.get("/retention", use: showRetention)
        group.put("/retention", use: changeRetention)
        group.delete("/retention", use: removeRetention)
    }

    @Sendable func showRetention(_ request: Request, context: TurnoRequestContext) async throws -> Retention {
        Retention(days: try await store.retentionDays(of: context.requirePrincipal().organizationID))
    }

    @Sendable func changeRetention(_ request: Request, context: TurnoRequestContext) async throws -> Retention {
        let body = try await request.decode(as: RetentionRequest.self, context: context)
        try await commands.set(days: body.days, by: context.requirePrincipal(), address: context.clientAddress)
        return Retention(days: body.days)
    }

    @Sendable func removeRetention(_ request: Request, context: TurnoRequestContext) async throws -> Retention {
        try await commands.set(days: nil, by: context.requirePrincipal(), address: context.clientAddress)
        return Retention(days: nil)
    }
}
