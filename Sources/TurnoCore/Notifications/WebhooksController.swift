import Foundation
import Hummingbird

/// Changes to an organization's webhook endpoints, each one transaction with its audit entry.
struct WebhookCommands: Sendable {
    let store: WebhookStore
    /// Told when a notification is sent again, so that it goes at once.
    let notifier: Notifier

    /// What a change sets; absent fields stay as they are.
    struct Change: Sendable {
        var url: String?
        var description: String?
        var eventTypes: [String]?
        var enabled: Bool?
    }

    func create(url: String, eventTypes: [String], description: String, by principal: Principal, address: String) async throws -> WebhookEndpoint {
        let url = try WebhookRules.validURL(url)
        let patterns = try WebhookRules.eventTypes(eventTypes)
        // Lengths count code points, as the API document's maxLength does.
        guard description.unicodeScalars.count <= 200 else { throw WebhookRuleViolation.descriptionTooLong }
        return try await store.storage.write { transaction in
            var endpoint = WebhookEndpoint(
                id: 0,
                organizationID: principal.organizationID,
                url: url,
                description: description,
                eventTypes: patterns,
                secret: WebhookRules.newSecret(),
                enabled: true,
                createdAtMs: transaction.timeMs,
                updatedAtMs: transaction.timeMs
            )
            endpoint.id = try await store.insert(endpoint, in: transaction)
            try await audit("webhook.created", endpoint, by: principal, address: address, in: transaction)
            return endpoint
        }
    }

    func change(_ id: Int64, _ change: Change, by principal: Principal, address: String) async throws -> WebhookEndpoint {
        let url = try change.url.map { url throws(WebhookRuleViolation) in try WebhookRules.validURL(url) }
        let patterns = try change.eventTypes.map { types throws(WebhookRuleViolation) in try WebhookRules.eventTypes(types) }
        if let description = change.description, description.unicodeScalars.count > 200 { throw WebhookRuleViolation.descriptionTooLong }
        return try await store.storage.write { transaction in
            guard var endpoint = try await store.endpoint(id, organizationID: principal.organizationID, sql: transaction.sql) else {
                throw WebhookRuleViolation.unknownEndpoint(id)
            }
            endpoint.url = url ?? endpoint.url
            endpoint.eventTypes = patterns ?? endpoint.eventTypes
            endpoint.description = change.description ?? endpoint.description
            if let enabled = change.enabled, enabled != endpoint.enabled {
                endpoint.enabled = enabled
                // Enabled again by hand: it starts with a clean slate; what it missed can be sent again from its log.
                endpoint.disabledReason = enabled ? nil : "disabled by \(principal.auditName)"
                endpoint.failingSinceMs = nil
                if !enabled {
                    try await NotificationStore(storage: store.storage).cancelPending(
                        channel: .webhook,
                        targetID: id,
                        reason: "the endpoint was disabled",
                        in: transaction
                    )
                }
            }
            endpoint.updatedAtMs = transaction.timeMs
            try await store.update(endpoint, in: transaction)
            try await audit("webhook.changed", endpoint, by: principal, address: address, in: transaction)
            return endpoint
        }
    }

    /// A new secret, shown once; the old one keeps signing for a day beside it.
    func rotateSecret(_ id: Int64, by principal: Principal, address: String) async throws -> WebhookEndpoint {
        try await store.storage.write { transaction in
            guard var endpoint = try await store.endpoint(id, organizationID: principal.organizationID, sql: transaction.sql) else {
                throw WebhookRuleViolation.unknownEndpoint(id)
            }
            endpoint.previousSecret = endpoint.secret
            endpoint.previousSecretUntilMs = transaction.timeMs + WebhookRules.secretGraceMs
            endpoint.secret = WebhookRules.newSecret()
            endpoint.updatedAtMs = transaction.timeMs
            try await store.update(endpoint, in: transaction)
            try await audit("webhook.secret_rotated", endpoint, by: principal, address: address, in: transaction)
            return endpoint
        }
    }

    func delete(_ id: Int64, by principal: Principal, address: String) async throws {
        try await store.storage.write { transaction in
            guard let endpoint = try await store.endpoint(id, organizationID: principal.organizationID, sql: transaction.sql) else {
                throw WebhookRuleViolation.unknownEndpoint(id)
            }
            try await NotificationStore(storage: store.storage).cancelPending(
                channel: .webhook,
                targetID: id,
                reason: "the endpoint was deleted",
                in: transaction
            )
            try await store.delete(id, in: transaction)
            try await audit("webhook.deleted", endpoint, by: principal, address: address, in: transaction)
        }
    }

    /// Sends a notification of the endpoint's log again, as a new notification.
    func resend(_ notificationID: Int64, endpointID: Int64, by principal: Principal, address: String) async throws -> Int64 {
        defer { notifier.notificationsRecorded() }
        return try await store.storage.write { transaction in
            guard let endpoint = try await store.endpoint(endpointID, organizationID: principal.organizationID, sql: transaction.sql) else {
                throw WebhookRuleViolation.unknownEndpoint(endpointID)
            }
            guard let id = try await store.resend(notificationID, endpointID: endpointID, in: transaction) else {
                throw WebhookRuleViolation.unknownNotification(notificationID)
            }
            try await audit("webhook.resent", endpoint, by: principal, address: address, in: transaction, detail: ["notification": String(notificationID)])
            return id
        }
    }

    private func audit(
        _ action: String,
        _ endpoint: WebhookEndpoint,
        by principal: Principal,
        address: String,
        in transaction: Transaction,
        detail: [String: String] = [:]
    ) async throws {
        try await Audit.record(
            in: transaction,
            organizationID: principal.organizationID,
            actor: principal.auditName,
            action: action,
            target: "webhook:\(endpoint.id)",
            detail: detail.merging(["url": endpoint.url, "enabled": endpoint.enabled ? "yes" : "no"]) { given, _ in given },
            address: address
        )
    }
}

/// `/api/v1/webhooks`: admins subscribe URLs to event types, rotate their secrets, read each one's log of
/// notifications and send one again.
struct WebhooksController: Sendable {
    let store: WebhookStore
    let notifications: NotificationStore
    let commands: WebhookCommands
    /// The event families endpoints can subscribe to.
    let families: [String]

    struct CreateRequest: Decodable {
        var url: String
        var eventTypes: [String]
        var description: String?
    }

    struct ChangeRequest: Decodable {
        var url: String?
        var eventTypes: [String]?
        var description: String?
        var enabled: Bool?
    }

    /// An endpoint as admins see it; `secret` only in the answers that make one.
    struct EndpointView: Codable, Sendable, ResponseEncodable {
        var id: Int64
        var url: String
        var description: String
        var eventTypes: [String]
        var enabled: Bool
        var disabledReason: String?
        var failingSince: Date?
        var previousSecretUntil: Date?
        var createdAt: Date
        var updatedAt: Date
        var secret: String?

        init(_ endpoint: WebhookEndpoint, showingSecret: Bool = false) {
            id = endpoint.id
            url = endpoint.url
            description = endpoint.description
            eventTypes = endpoint.eventTypes.patterns
            enabled = endpoint.enabled
            disabledReason = endpoint.disabledReason
            failingSince = endpoint.failingSinceMs.map(Date.init(milliseconds:))
            previousSecretUntil = endpoint.previousSecretUntilMs.map(Date.init(milliseconds:))
            createdAt = Date(milliseconds: endpoint.createdAtMs)
            updatedAt = Date(milliseconds: endpoint.updatedAtMs)
            secret = showingSecret ? endpoint.secret : nil
        }
    }

    struct ListResponse: Codable, Sendable, ResponseEncodable {
        var items: [EndpointView]
        /// The event families there are to subscribe to (`ticket.*`…).
        var eventFamilies: [String]
    }

    struct LogResponse: Codable, Sendable, ResponseEncodable {
        var items: [NotificationRecord]
        var nextCursor: String?
    }

    struct Resent: Codable, Sendable {
        var id: Int64
    }

    func add(to group: RouterGroup<TurnoRequestContext>) {
        group.post(use: createEndpoint)
        group.get(use: listEndpoints)
        group.get("/:webhook", use: showEndpoint)
        group.patch("/:webhook", use: changeEndpoint)
        group.delete("/:webhook", use: deleteEndpoint)
        group.post("/:webhook/secret", use: rotateSecret)
        group.get("/:webhook/notifications", use: listNotifications)
        group.post("/:webhook/notifications/:notification/resend", use: resendNotification)
    }

    @Sendable func createEndpoint(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: CreateRequest.self, context: context)
        let endpoint = try await commands.create(
            url: body.url,
            eventTypes: body.eventTypes,
            description: body.description ?? "",
            by: context.requirePrincipal(),
            address: context.clientAddress
        )
        return try Response.json(EndpointView(endpoint, showingSecret: true), status: .created)
    }

    @Sendable func listEndpoints(_ request: Request, context: TurnoRequestContext) async throws -> ListResponse {
        let endpoints = try await store.endpoints(organizationID: context.requirePrincipal().organizationID)
        return ListResponse(items: endpoints.map { EndpointView($0) }, eventFamilies: families.map { "\($0).*" })
    }

    @Sendable func showEndpoint(_ request: Request, context: TurnoRequestContext) async throws -> EndpointView {
        EndpointView(try await endpoint(context))
    }

    @Sendable func changeEndpoint(_ request: Request, context: TurnoRequestContext) async throws -> EndpointView {
        let body = try await request.decode(as: ChangeRequest.self, context: context)
        let change = WebhookCommands.Change(url: body.url, description: body.description, eventTypes: body.eventTypes, enabled: body.enabled)
        return EndpointView(try await commands.change(try endpointID(context), change, by: context.requirePrincipal(), address: context.clientAddress))
    }

    @Sendable func deleteEndpoint(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        try await commands.delete(try endpointID(context), by: context.requirePrincipal(), address: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func rotateSecret(_ request: Request, context: TurnoRequestContext) async throws -> EndpointView {
        EndpointView(
            try await commands.rotateSecret(try endpointID(context), by: context.requirePrincipal(), address: context.clientAddress),
            showingSecret: true
        )
    }

    @Sendable func listNotifications(_ request: Request, context: TurnoRequestContext) async throws -> LogResponse {
        let endpoint = try await endpoint(context)
        let limit = Int(min(try request.positiveNumber(query: "limit") ?? 50, 200))
        let before = try request.positiveNumber(query: "cursor")
        let items = try await notifications.notifications(channel: .webhook, targetID: endpoint.id, before: before, limit: limit)
        return LogResponse(items: items, nextCursor: items.count == limit ? items.last.map { String($0.id) } : nil)
    }

    @Sendable func resendNotification(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        guard let notification = context.parameters.get("notification", as: Int64.self) else { throw Problem.notFound("no such notification") }
        let id = try await commands.resend(notification, endpointID: try endpointID(context), by: context.requirePrincipal(), address: context.clientAddress)
        return try Response.json(Resent(id: id), status: .accepted)
    }

    private func endpointID(_ context: TurnoRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("webhook", as: Int64.self) else { throw Problem.notFound("no such webhook endpoint") }
        return id
    }

    private func endpoint(_ context: TurnoRequestContext) async throws -> WebhookEndpoint {
        let id = try endpointID(context)
        let organization = try context.requirePrincipal().organizationID
        guard let endpoint = try await store.storage.read({ sql in try await store.endpoint(id, organizationID: organization, sql: sql) }) else {
            throw WebhookRuleViolation.unknownEndpoint(id)
        }
        return endpoint
    }
}
