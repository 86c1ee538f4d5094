import Foundation

/// A staff account as stored. The password hash never leaves the identity code.
public struct StaffUser: Sendable, Equatable {
    public var id: Int64
    public var organizationID: Int64
    public var username: String
    public var role: Role
    public var branchIDs: Set<Int64>
    public var active: Bool
    /// Raised on every password or role change; tokens carry it and stop working when it moves on.
    public var tokenEpoch: Int64
    var passwordHash: String
    /// When the password was last changed (or chosen at install through TURNO_ADMIN_PASSWORD); nil while it is
    /// still the one generated at the first start, which the first-start checklist asks to change.
    public var passwordChangedAtMs: Int64? = nil
}

/// The JSON a staff account is shown as.
public struct StaffUserResponse: Codable, Sendable, Equatable {
    public var id: Int64
    public var organizationId: Int64
    public var username: String
    public var role: Role
    public var branchIds: [Int64]
    public var active: Bool
    public var passwordChangedAt: Date?

    init(_ user: StaffUser) {
        id = user.id
        organizationId = user.organizationID
        username = user.username
        role = user.role
        branchIds = user.branchIDs.sorted()
        active = user.active
        passwordChangedAt = user.passwordChangedAtMs.map(Date.init(milliseconds:))
    }
}

/// Usernames are short, case-insensitive tokens so they can be typed on a kiosk or a phone.
public enum Username {
    public static func normalized(_ text: String) -> String? {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard (2...64).contains(lowered.count),
            lowered.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
        else { return nil }
        return lowered
    }
}

/// Passwords must be long enough to resist guessing; there is no other rule to game.
public enum PasswordRule {
    public static let minimumLength = 10
    public static let maximumLength = 72  // bcrypt ignores anything longer

    public static func problem(with password: String) -> String? {
        if password.count < minimumLength { return "the password must have at least \(minimumLength) characters" }
        if password.utf8.count > maximumLength { return "the password must have at most \(maximumLength) bytes" }
        return nil
    }
}
