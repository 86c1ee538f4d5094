/// What kind of rule a change would break; it alone decides the HTTP status, in one place (`ProblemMiddleware`).
public enum RuleViolationKind: Sendable, Equatable {
    /// Something named does not exist (or is not the caller's to see): 404.
    case notFound
    /// The state things are in does not allow it: 409.
    case conflict
    /// The input breaks a rule whatever the state: 422.
    case invalid
}

/// A rule of a module's domain that a command would break. Domain code and commands throw these (never HTTP
/// problems); `ProblemMiddleware` turns them into problem+json, with `detail` as the problem's detail.
public protocol RuleViolation: Error, Sendable {
    var kind: RuleViolationKind { get }
    /// What is wrong, fit to show to a client.
    var detail: String { get }
}

extension RuleViolation {
    /// The problem+json answer for this violation.
    public var problem: Problem {
        switch kind {
        case .notFound: .notFound(detail)
        case .conflict: .conflict(detail)
        case .invalid: .unprocessable(detail)
        }
    }
}
