import Foundation

/// One push message, already encoded as the JSON text every transport sends:
/// `{"id", "type", "topic", "stream", "version", "time", "data"}` (`stream` only for stored events, `time` for all but
/// `resync`). `id` is the event's sequence, which clients give back as `since` or `Last-Event-ID` to resume.
public struct LiveMessage: Sendable, Equatable {
    public let id: Int64
    public let json: String

    public init(id: Int64, json: String) {
        self.id = id
        self.json = json
    }

    init(event: StoredEvent, topic: String) {
        self.init(id: event.sequence, type: event.type, topic: topic, stream: event.stream, version: event.version, timeMs: event.timeMs, data: event.data)
    }

    /// A message that is pushed only, never stored or replayed (a ticket's new position, the drones that moved):
    /// `id` is the latest event's sequence, so that a client resuming from it misses nothing stored.
    public static func pushed(id: Int64, type: String, topic: String, timeMs: Int64, data: some Encodable) throws -> LiveMessage {
        LiveMessage(id: id, type: type, topic: topic, stream: nil, version: 0, timeMs: timeMs, data: try JSONCoding.text(data))
    }

    /// Tells a client that it missed more than this node remembers: it must reload the full state.
    static func resync(latest: Int64, reason: String) -> LiveMessage {
        LiveMessage(id: latest, type: "resync", topic: "*", stream: nil, version: 0, timeMs: nil, data: #"{"reason":\#(JSONCoding.quoted(reason))}"#)
    }

    /// The one place the envelope is written; `data` is JSON text already (as stored in the event log).
    private init(id: Int64, type: String, topic: String, stream: String?, version: Int64, timeMs: Int64?, data: String) {
        let quoted = JSONCoding.quoted
        self.id = id
        self.json = """
            {"id":\(id),"type":\(quoted(type)),"topic":\(quoted(topic)),\
            \(stream.map { #""stream":\#(quoted($0)),"# } ?? "")"version":\(version),\
            \(timeMs.map { #""time":\#(quoted(Timestamp.format(milliseconds: $0))),"# } ?? "")"data":\(data)}
            """
    }
}
