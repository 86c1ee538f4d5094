import Foundation
import Hummingbird

/// `/api/v1/api-keys`: admins create keys (shown once), list them and revoke them.
struct APIKeysController: Sendable {
    let identity: Identity
    let scopes: [Scope]

    struct CreateRequest: Decodable {
        var name: String
        var scopes: [String]
    }

    struct ListResponse: Codable, ResponseEncodable {
        var items: [APIKeys.Listed]
    }

    func add(to group: RouterGroup<TurnoRequestContext>) {
        group.post(use: createKey)
        group.get(use: listKeys)
        group.delete("/:key", use: revokeKey)
    }

    @Sendable func createKey(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: CreateRequest.self, context: context)
        let name = body.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count) else { throw Problem.unprocessable("`name` must have 1 to 100 characters") }
        var scopes: Set<Scope> = []
        for text in body.scopes {
            let scope = Scope(rawValue: text)
            guard self.scopes.contains(scope) else {
                throw Problem.unprocessable("unknown scope `\(text)`; known scopes: \(self.scopes.map(\.rawValue).joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw Problem.unprocessable("a key needs at least one scope") }
        let created = try await APIKeys.create(
            name: name,
            scopes: scopes,
            by: context.requirePrincipal(),
            address: context.clientAddress,
            storage: identity.storage
        )
        return try Response.json(created, status: .created)
    }

    @Sendable func listKeys(_ request: Request, context: TurnoRequestContext) async throws -> ListResponse {
        ListResponse(items: try await APIKeys.list(organizationID: context.requirePrincipal().organizationID, storage: identity.storage))
    }

    @Sendable func revokeKey(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        guard let id = context.parameters.get("key", as: Int64.self),
            try await APIKeys.revoke(id: id, by: context.requirePrincipal(), address: context.clientAddress, storage: identity.storage)
        else { throw Problem.notFound("no such API key in your organization") }
        return Response(status: .noContent)
    }
}
