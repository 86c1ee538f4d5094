import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SQLKit

/// An organization's webhook endpoint: a URL that hears the event types it subscribes to, signed with its secret.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: Int64
    public var organizationID: Int64
    public var url: String
    public var description: String
    public var eventTypes: EventTypePatterns
    public var secret: String
    /// The secret before the last rotation, still signed with until `previousSecretUntilMs` so receivers can switch.
    public var previousSecret: String?
    public var previousSecretUntilMs: Int64?
    public var enabled: Bool
    public var disabledReason: String?
    /// Since when every attempt has failed; nil while it answers.
    public var failingSinceMs: Int64?
    public var createdAtMs: Int64
    public var updatedAtMs: Int64

    /// The secrets to sign with at `nowMs`: the current one, and the previous one during its grace day.
    func signingSecrets(nowMs: Int64) -> [String] {
        guard let previousSecret, let until = previousSecretUntilMs, nowMs < until else { return [secret] }
        return [secret, previousSecret]
    }
}

/// Why a change to webhook endpoints cannot be made.
public enum WebhookRuleViolation: RuleViolation, Equatable {
    case unknownEndpoint(Int64)
    case unknownNotification(Int64)
    case invalidURL(String)
    case invalidEventTypes([String])
    case descriptionTooLong

    public var kind: RuleViolationKind {
        switch self {
        case .unknownEndpoint, .unknownNotification: .notFound
        case .invalidURL, .invalidEventTypes, .descriptionTooLong: .invalid
        }
    }

    public var detail: String {
        switch self {
        case .unknownEndpoint(let id): "no webhook endpoint \(id) in your organization"
        case .unknownNotification(let id): "no notification \(id) was sent to this endpoint"
        case .invalidURL(let url): "`url` must be an absolute http or https URL of at most 2000 characters, got `\(url.prefix(100))`"
        case .invalidEventTypes(let types):
            "`event_types` must list 1 to 50 types such as `ticket.called`, families such as `ticket.*`, or `*`; got \(types.prefix(5).map { "`\($0.prefix(50))`" }.joined(separator: ", "))"
        case .descriptionTooLong: "`description` must have at most 200 characters"
        }
    }
}

/// The rules of endpoints, pure.
public enum WebhookRules {
    /// How long a rotated-out secret still signs.
    public static let secretGraceMs: Int64 = 86_400_000

    public static func validURL(_ text: String) throws(WebhookRuleViolation) -> String {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard text.count <= 2_000, let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.user == nil
        else { throw .invalidURL(text) }
        return text
    }

    public static func eventTypes(_ types: [String]) throws(WebhookRuleViolation) -> EventTypePatterns {
        guard let patterns = EventTypePatterns(types) else { throw .invalidEventTypes(types) }
        return patterns
    }

    /// A new secret: `whsec_` and 32 random bytes.
    public static func newSecret() -> String {
        "whsec_" + RandomToken.make(bytes: 32)
    }
}

/// The SQL of webhook endpoints.
struct WebhookStore: Sendable {
    let storage: Storage

    static let columns =
        "id, organization_id, url, description, event_types, secret, previous_secret, previous_secret_until_ms, enabled, disabled_reason, failing_since_ms, created_at_ms, updated_at_ms"

    static func endpoint(from row: any SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row.decode(column: "id", as: Int64.self),
            organizationID: try row.decode(column: "organization_id", as: Int64.self),
            url: try row.decode(column: "url", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            eventTypes: EventTypePatterns(try row.decode(column: "event_types", as: String.self).split(separator: " ").map(String.init))
                ?? EventTypePatterns(["*"])!,
            secret: try row.decode(column: "secret", as: String.self),
            previousSecret: try row.decode(column: "previous_secret", as: String?.self),
            previousSecretUntilMs: try row.decode(column: "previous_secret_until_ms", as: Int64?.self),
            enabled: try row.decode(column: "enabled", as: Int.self) != 0,
            disabledReason: try row.decode(column: "disabled_reason", as: String?.self),
            failingSinceMs: try row.decode(column: "failing_since_ms", as: Int64?.self),
            createdAtMs: try row.decode(column: "created_at_ms", as: Int64.self),
            updatedAtMs: try row.decode(column: "updated_at_ms", as: Int64.self)
        )
    }

    func endpoints(organizationID: Int64) async throws -> [WebhookEndpoint] {
        try await storage.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM webhook_endpoints WHERE organization_id = \(bind: organizationID) ORDER BY id")
                .all().map(Self.endpoint(from:))
        }
    }

    func endpoint(_ id: Int64, organizationID: Int64, sql: any SQLDatabase) async throws -> WebhookEndpoint? {
        try await sql.raw(
            "SELECT \(unsafeRaw: Self.columns) FROM webhook_endpoints WHERE id = \(bind: id) AND organization_id = \(bind: organizationID)"
        ).first().map(Self.endpoint(from:))
    }

    /// The enabled endpoints of these organizations.
    func enabledEndpoints(of organizations: [Int64], sql: any SQLDatabase) async throws -> [WebhookEndpoint] {
        guard !organizations.isEmpty else { return [] }
        return try await sql.raw(
            "SELECT \(unsafeRaw: Self.columns) FROM webhook_endpoints WHERE enabled = 1 AND organization_id IN (\(binds: organizations))"
        ).all().map(Self.endpoint(from:))
    }

    func endpoints(_ ids: [Int64]) async throws -> [Int64: WebhookEndpoint] {
        guard !ids.isEmpty else { return [:] }
        return try await storage.read { sql in
            let rows = try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM webhook_endpoints WHERE id IN (\(binds: ids))").all()
            return Dictionary(uniqueKeysWithValues: try rows.map(Self.endpoint(from:)).map { ($0.id, $0) })
        }
    }

    func insert(_ endpoint: WebhookEndpoint, in transaction: Transaction) async throws -> Int64 {
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO webhook_endpoints (organization_id, url, description, event_types, secret, enabled, created_at_ms, updated_at_ms)
                VALUES (\(bind: endpoint.organizationID), \(bind: endpoint.url), \(bind: endpoint.description),
                        \(bind: endpoint.eventTypes.patterns.joined(separator: " ")), \(bind: endpoint.secret), 1, \(bind: endpoint.createdAtMs),
                        \(bind: endpoint.updatedAtMs))
                RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new endpoint's id") }
        return try row.decode(column: "id", as: Int64.self)
    }

    func update(_ endpoint: WebhookEndpoint, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE webhook_endpoints SET url = \(bind: endpoint.url), description = \(bind: endpoint.description),
                event_types = \(bind: endpoint.eventTypes.patterns.joined(separator: " ")), secret = \(bind: endpoint.secret),
                previous_secret = \(bind: endpoint.previousSecret), previous_secret_until_ms = \(bind: endpoint.previousSecretUntilMs),
                enabled = \(bind: endpoint.enabled ? 1 : 0), disabled_reason = \(bind: endpoint.disabledReason),
                failing_since_ms = \(bind: endpoint.failingSinceMs), updated_at_ms = \(bind: endpoint.updatedAtMs)
            WHERE id = \(bind: endpoint.id)
            """
        ).run()
    }

    func delete(_ id: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM webhook_endpoints WHERE id = \(bind: id)").run()
    }

    /// A copy of a notification to send again now.
    func resend(_ notificationID: Int64, endpointID: Int64, in transaction: Transaction) async throws -> Int64? {
        try await transaction.sql.raw(
            """
            INSERT INTO notifications (tenant, channel, target_id, event_seq, kind, ticket_id, detail, state, next_attempt_ms, created_at_ms, resend_of)
            SELECT tenant, channel, target_id, event_seq, kind, ticket_id, detail, 'pending', \(bind: transaction.timeMs), \(bind: transaction.timeMs), id
            FROM notifications WHERE id = \(bind: notificationID) AND channel = 'webhook' AND target_id = \(bind: endpointID)
            RETURNING id
            """
        ).first()?.decode(column: "id", as: Int64.self)
    }
}

/// Plans a webhook notification for each published event and each enabled endpoint of its organization that
/// subscribes to its type.
struct WebhookPlanner: NotificationPlanner {
    let store: WebhookStore
    /// The event families the modules publish (`ticket`, `queue`, `delivery`…); other events stay inside.
    let families: Set<String>

    func plan(_ events: [StoredEvent], nowMs: Int64, in transaction: Transaction) async throws -> [NewNotification] {
        let published = events.filter { event in
            event.type.split(separator: ".").first.map { families.contains(String($0)) } ?? false
        }
        guard !published.isEmpty else { return [] }
        let endpoints = try await store.enabledEndpoints(of: Array(Set(published.map(\.tenant))), sql: transaction.sql)
        guard !endpoints.isEmpty else { return [] }
        let byOrganization = Dictionary(grouping: endpoints, by: \.organizationID)
        var notifications: [NewNotification] = []
        for event in published {
            for endpoint in byOrganization[event.tenant] ?? [] where endpoint.eventTypes.matches(event.type) {
                notifications.append(
                    NewNotification(tenant: event.tenant, channel: .webhook, targetID: endpoint.id, eventSequence: event.sequence, kind: event.type)
                )
            }
        }
        return notifications
    }
}

/// Posts webhook notifications, signed, many at once, and keeps each endpoint's health: an endpoint whose every
/// attempt has failed for the whole retry window is disabled, and its organization's audit trail says so.
struct WebhookSender: NotificationSender {
    let store: WebhookStore
    let client: HTTPClient
    let logger: Logger
    /// Requests in flight at once.
    let concurrency: Int
    static let timeout: TimeAmount = .seconds(10)

    /// The body of a webhook request: `{"id": "evt_<sequence>", "type", "time", "data"}`, `data` as the event has it.
    static func body(of event: StoredEvent) throws -> Data {
        let envelope = try JSONCoding.text(Envelope(id: "evt_\(event.sequence)", type: event.type, time: Date(milliseconds: event.timeMs)))
        // The event's data is JSON already: it goes in as it is, after the envelope's other fields.
        return Data((envelope.dropLast() + #","data":"# + event.data + "}").utf8)
    }

    private struct Envelope: Encodable {
        var id: String
        var type: String
        var time: Date
    }

    func send(_ notifications: [PendingNotification], nowMs: Int64) async -> [Int64: NotificationOutcome] {
        let endpoints: [Int64: WebhookEndpoint]
        do {
            endpoints = try await store.endpoints(Array(Set(notifications.map(\.targetID))))
        } catch {
            return Dictionary(
                uniqueKeysWithValues: notifications.map { ($0.id, .retry(error: "cannot read the endpoints: \(loggable(error))", code: nil, latencyMs: nil)) }
            )
        }
        let outcomes = await each(notifications, limit: concurrency) { notification in
            await post(notification, to: endpoints[notification.targetID], nowMs: nowMs)
        }
        await keepHealth(of: endpoints, after: notifications, outcomes: outcomes, nowMs: nowMs)
        return outcomes
    }

    private func post(_ notification: PendingNotification, to endpoint: WebhookEndpoint?, nowMs: Int64) async -> NotificationOutcome {
        guard let endpoint, endpoint.enabled else { return .cancelled(reason: "the endpoint was disabled or deleted") }
        guard let event = notification.event, let body = try? Self.body(of: event) else {
            return .cancelled(reason: "the event is no longer in the log")
        }
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Turno-Webhooks/1")
        request.headers.add(name: "Turno-Event-Id", value: "evt_\(event.sequence)")
        request.headers.add(name: "Turno-Notification-Id", value: String(notification.id))
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.header(body: body, secrets: endpoint.signingSecrets(nowMs: nowMs), timeSeconds: nowMs / 1000)
        )
        request.body = .bytes(ByteBuffer(data: body))
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: Self.timeout)
            // Only the status counts; the body is read (up to a little) so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
            let code = Int(response.status.code)
            if (200..<300).contains(code) { return .delivered(code: code, latencyMs: latency) }
            return .retry(error: "the endpoint answered \(code)", code: code, latencyMs: latency)
        } catch {
            let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
            return .retry(error: "cannot reach the endpoint: \(loggable(error))", code: nil, latencyMs: latency)
        }
    }

    /// An endpoint that answered is healthy again; one that did not is failing since its first failure, and disabled
    /// once that is longer ago than the retry window.
    private func keepHealth(
        of endpoints: [Int64: WebhookEndpoint],
        after notifications: [PendingNotification],
        outcomes: [Int64: NotificationOutcome],
        nowMs: Int64
    ) async {
        var answered: Set<Int64> = []
        var failed: Set<Int64> = []
        for notification in notifications {
            switch outcomes[notification.id] {
            case .delivered: answered.insert(notification.targetID)
            case .retry, .failed: failed.insert(notification.targetID)
            default: break
            }
        }
        for id in answered.union(failed) {
            guard var endpoint = endpoints[id], endpoint.enabled else { continue }
            let before = endpoint
            if answered.contains(id) {
                endpoint.failingSinceMs = nil
            } else {
                endpoint.failingSinceMs = endpoint.failingSinceMs ?? nowMs
            }
            let disable = endpoint.failingSinceMs.map { nowMs - $0 >= RetrySchedule.windowMs } ?? false
            guard endpoint != before || disable else { continue }
            do {
                try await store.storage.write { transaction in
                    // Read again in the transaction: an admin may have changed it since the batch began.
                    guard var current = try await store.endpoint(id, organizationID: endpoint.organizationID, sql: transaction.sql), current.enabled else {
                        return
                    }
                    current.failingSinceMs = endpoint.failingSinceMs
                    if disable {
                        current.enabled = false
                        current.disabledReason = "every attempt failed for three days"
                        current.updatedAtMs = transaction.timeMs
                        try await NotificationStore(storage: store.storage).cancelPending(
                            channel: .webhook,
                            targetID: id,
                            reason: "the endpoint was disabled",
                            in: transaction
                        )
                        try await Audit.record(
                            in: transaction,
                            organizationID: current.organizationID,
                            actor: "system",
                            action: "webhook.disabled",
                            target: "webhook:\(id)",
                            detail: ["url": current.url, "reason": current.disabledReason ?? ""],
                            address: ""
                        )
                        logger.warning("disabled a webhook endpoint that failed for three days", metadata: ["endpoint": "\(id)"])
                    }
                    try await store.update(current, in: transaction)
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("cannot record a webhook endpoint's health", metadata: ["endpoint": "\(id)", "error": "\(loggable(error))"])
            }
        }
    }
}
