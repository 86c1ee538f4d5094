/// A branch's active tickets by id, kept in buckets of 64 consecutive ids.
///
/// Branch states are values shared between the node's cache, readers and the command being applied, so a
/// command usually changes a copy. With one flat dictionary that copy would cost every ticket; with buckets
/// it costs one reference per bucket plus the one bucket that changes.
public struct TicketTable: Sendable, Equatable {
    private var buckets: [Int64: [TicketID: Ticket]] = [:]
    public private(set) var count = 0

    public init() {}

    public subscript(id: TicketID) -> Ticket? {
        get { buckets[Self.bucket(of: id)]?[id] }
        set {
            let bucket = Self.bucket(of: id)
            let previous = buckets[bucket, default: [:]].updateValueOrRemove(newValue, forKey: id)
            count += (newValue == nil ? 0 : 1) - (previous == nil ? 0 : 1)
            if buckets[bucket]?.isEmpty == true { buckets[bucket] = nil }
        }
    }

    public var values: [Ticket] { buckets.values.flatMap(\.values) }
    public var keys: [TicketID] { buckets.values.flatMap(\.keys) }

    private static func bucket(of id: TicketID) -> Int64 { id >> 6 }
}

extension Dictionary {
    /// Sets or removes a value in place and returns the one it replaced.
    fileprivate mutating func updateValueOrRemove(_ value: Value?, forKey key: Key) -> Value? {
        if let value { return updateValue(value, forKey: key) }
        return removeValue(forKey: key)
    }
}
