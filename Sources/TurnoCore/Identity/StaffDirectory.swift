import Foundation
import Synchronization

/// Every staff account of every organization, in memory on each node, so that checking a token costs no
/// database query. It is loaded at start and kept current by the `user.changed` and `session.revoked`
/// events, which reach every node through the event feed.
public final class StaffDirectory: EventConsumer, Sendable {
    private struct State {
        var users: [Int64: StaffUser] = [:]
        /// Sign-in sessions (refresh-token families) ended before their access tokens expire.
        var revokedSessions: [String: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    func load(_ users: [StaffUser]) {
        state.withLock { state in
            for user in users { state.users[user.id] = user.withoutSecrets }
        }
    }

    public func user(id: Int64) -> StaffUser? {
        state.withLock { $0.users[id] }
    }

    func isRevoked(session: String) -> Bool {
        state.withLock { $0.revokedSessions[session] != nil }
    }

    /// Applies a change made on this node at once, before its event comes back through the feed.
    func apply(_ user: StaffUser) {
        state.withLock { $0.users[user.id] = user.withoutSecrets }
    }

    func revoke(session: String, until expiry: Int64, now: Int64) {
        state.withLock { state in
            state.revokedSessions[session] = expiry
            if state.revokedSessions.count > 10_000 {
                state.revokedSessions = state.revokedSessions.filter { $0.value > now }
            }
        }
    }

    public func consume(_ events: [StoredEvent]) {
        for event in events {
            switch event.type {
            case UserChanged.type:
                if let change = try? JSONCoding.decoder.decode(UserChanged.self, from: Data(event.data.utf8)) {
                    apply(change.user)
                }
            case SessionRevoked.type:
                if let revoked = try? JSONCoding.decoder.decode(SessionRevoked.self, from: Data(event.data.utf8)) {
                    revoke(session: revoked.session, until: revoked.expiresAtMs, now: event.timeMs)
                }
            default:
                continue
            }
        }
    }
}

/// A staff account was created or changed (its role, branches, password or state).
struct UserChanged: Codable {
    static let type = "user.changed"
    var id: Int64
    var organizationId: Int64
    var username: String
    var role: Role
    var branchIds: [Int64]
    var active: Bool
    var tokenEpoch: Int64

    init(_ user: StaffUser) {
        id = user.id
        organizationId = user.organizationID
        username = user.username
        role = user.role
        branchIds = user.branchIDs.sorted()
        active = user.active
        tokenEpoch = user.tokenEpoch
    }

    var user: StaffUser {
        StaffUser(
            id: id,
            organizationID: organizationId,
            username: username,
            role: role,
            branchIDs: Set(branchIds),
            active: active,
            tokenEpoch: tokenEpoch,
            passwordHash: ""
        )
    }

    func event() throws -> NewEvent {
        try NewEvent(tenant: organizationId, stream: "user:\(id)", type: Self.type, topics: ["organization:\(organizationId)"], data: self)
    }
}

/// A sign-in session was ended (logout, or a reused refresh token); its access tokens stop working.
struct SessionRevoked: Codable {
    static let type = "session.revoked"
    var session: String
    var organizationId: Int64
    var expiresAtMs: Int64

    func event() throws -> NewEvent {
        try NewEvent(tenant: organizationId, stream: "session:\(session)", type: Self.type, topics: ["organization:\(organizationId)"], data: self)
    }
}

extension StaffUser {
    var withoutSecrets: StaffUser {
        var copy = self
        copy.passwordHash = ""
        return copy
    }
}
