import Foundation

/// An event about to be written, in the same transaction as the change it describes.
public struct NewEvent: Sendable {
    /// The organization it belongs to.
    public var tenant: Int64
    /// The aggregate it belongs to, such as `ticket:17`; versions count per stream.
    public var stream: String
    /// What happened, such as `ticket.called`.
    public var type: String
    /// The live topics that hear of it, such as `branch:3` and `queue:5`.
    public var topics: [String]
    /// The payload, as JSON text.
    public var data: String

    public init(tenant: Int64, stream: String, type: String, topics: [String], json data: String) {
        self.tenant = tenant
        self.stream = stream
        self.type = type
        self.topics = topics
        self.data = data
    }

    public init(tenant: Int64, stream: String, type: String, topics: [String], data: some Encodable) throws {
        self.init(tenant: tenant, stream: stream, type: type, topics: topics, json: try JSONCoding.text(data))
    }
}

/// An event as stored in the `events` table: `sequence` orders all events, `version` counts within its stream.
public struct StoredEvent: Sendable, Equatable {
    public var sequence: Int64
    public var tenant: Int64
    public var stream: String
    public var version: Int64
    public var type: String
    public var topics: [String]
    public var data: String
    /// When it was written, in milliseconds since 1970 (UTC).
    public var timeMs: Int64
}

/// Topic names are plain tokens (`branch:3`, `ticket:<token>`): letters, digits and `:_-.`.
public enum Topic {
    public static func isValid(_ topic: some StringProtocol) -> Bool {
        !topic.isEmpty && topic.utf8.count <= 200
            && topic.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
    }
}
