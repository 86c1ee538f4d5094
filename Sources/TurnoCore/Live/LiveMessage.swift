import Foundation

/// One push message, already encoded as the JSON text every transport sends:
/// `{"id", "type", "topic", "stream", "version", "time", "data"}`. `id` is the event's sequence,
/// which clients give back as `since` or `Last-Event-ID` to resume.
public struct LiveMessage: Sendable, Equatable {
    public let id: Int64
    public let json: String

    public init(id: Int64, json: String) {
        self.id = id
        self.json = json
    }

    init(event: StoredEvent, topic: String) {
        let time = Date(timeIntervalSince1970: Double(event.timeMs) / 1000)
        self.id = event.sequence
        self.json = """
            {"id":\(event.sequence),"type":\(Self.quoted(event.type)),"topic":\(Self.quoted(topic)),\
            "stream":\(Self.quoted(event.stream)),"version":\(event.version),\
            "time":\(Self.quoted(Self.timeFormat.format(time))),"data":\(event.data)}
            """
    }

    /// Tells a client that it missed more than this node remembers: it must reload the full state.
    static func resync(latest: Int64, reason: String) -> LiveMessage {
        LiveMessage(
            id: latest,
            json: #"{"id":\#(latest),"type":"resync","topic":"*","version":0,"data":{"reason":\#(quoted(reason))}}"#
        )
    }

    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
