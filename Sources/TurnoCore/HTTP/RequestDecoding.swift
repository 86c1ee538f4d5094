import Foundation
import Hummingbird
import NIOFoundationCompat

/// Decodes JSON request bodies (snake_case keys, ISO-8601 dates) and explains exactly what is wrong
/// with a body that does not fit: which field is missing, has the wrong type, or is not a field of the route at all
/// (a misspelt field would otherwise be ignored silently).
public struct TurnoJSONDecoder: RequestDecoder {
    public init() {}

    /// Where the first null in a parsed JSON value is (`name`, `origin.x`), if any.
    static func firstNull(in value: Any, at path: String) -> String? {
        switch value {
        case is NSNull:
            return path.isEmpty ? "the body" : path
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let found = firstNull(in: object[key]!, at: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case is [Any]:
            // A null element fails to decode on its own (400); objects inside arrays are batch items, which routes
            // check one by one (`NullProbe`), so that one item's mistake does not refuse the others.
            return nil
        default:
            return nil
        }
    }

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let data = Data(buffer: body)
        // No field of this API takes null: a null is a mistake (or "clear it", which no route offers), never "absent".
        if let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]), let path = Self.firstNull(in: object, at: "") {
            throw Problem.unprocessable("`\(path)` is null; leave a field out instead of sending null")
        }
        do {
            return try StrictJSON.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Problem.badRequest(ProblemMiddleware.describe(error))
        } catch let unknown as UnknownField {
            throw Problem.unprocessable(unknown.detail)
        }
    }
}

/// Decodes any JSON value and remembers where its first null is: for routes that take a list of items and answer
/// for each item, so that a null in one item fails that item only.
public struct NullProbe: Decodable, Sendable {
    /// The path of the first null inside the value (`notes`), or nil when there is none.
    public let nullPath: String?

    /// Any key of a JSON object.
    public struct AnyKey: CodingKey {
        public var stringValue: String
        public var intValue: Int? { nil }
        public init(stringValue: String) { self.stringValue = stringValue }
        public init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let depth = decoder.codingPath.count
        func found(_ path: [any CodingKey]) -> String {
            path.dropFirst(depth).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            for key in object.allKeys {
                if try object.decodeNil(forKey: key) {
                    nullPath = found(object.codingPath + [key])
                    return
                }
                if let inner = try object.decode(NullProbe.self, forKey: key).nullPath {
                    nullPath = found(object.codingPath + [key]) + "." + inner
                    return
                }
            }
        } else if var array = try? decoder.unkeyedContainer() {
            while !array.isAtEnd {
                if try array.decodeNil() {
                    nullPath = "[\(array.currentIndex - 1)]"
                    return
                }
                _ = try array.decode(NullProbe.self)
            }
        } else if try decoder.singleValueContainer().decodeNil() {
            nullPath = ""
            return
        }
        nullPath = nil
    }
}
